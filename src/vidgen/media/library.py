"""Your own photos and clips: the media folder, per-reference images, and which scene shows what.

An item is described by its file name (``desk-lamp_warm.jpg`` says "desk", "lamp", "warm") and
by tags: a sidecar file beside it (``beach.jpg.yml`` holding ``tags: [sea, sand]`` and
optionally ``focus: [x, y]``, the subject's position in 0..1 of the width and height) and/or a
list in the theme config. ``match_scenes`` gives each scene the item whose words best overlap
what the scene says (its subjects count most, then its keywords, then the narration, then the
video's subject terms), never the item of the scene before when another one matches too.

Pure work on files: the index is built with ``stat``, small sidecar reads and
``vidgen.media.probe``; the caller (the content stage, or ``generate``'s check) decides what
a problem means.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vidgen.errors import InvalidInput
from vidgen.media.probe import MEDIA_SUFFIXES, MediaFacts, inspect_media

if TYPE_CHECKING:
    from vidgen.config import ThemeConfig

# A folder is listed this deep and this far; a media folder is a curated set, not a photo
# archive, and every item is probed at ``generate``.
MAX_ITEMS = 300
MAX_DEPTH = 3
MAX_SIDECAR_BYTES = 64 * 1024
SIDECAR_SUFFIXES = (".yml", ".yaml")

# How much a word counts by where the scene says it.
WEIGHT_SUBJECT = 3.0
WEIGHT_KEYWORD = 2.0
WEIGHT_NARRATION = 1.0
WEIGHT_VIDEO_SUBJECT = 0.5
# Your own photos of the video's product win a tie against a folder item.
REFERENCE_BONUS = 0.25
# Each earlier use of an item makes it this much less attractive: spread the pictures out.
REUSE_PENALTY = 0.5

_STOPWORD_TEXT = """a an and are as at be been but by can do does for from get gets got has have
    here how
    into is it its just let lets like make makes more most much my new no not now of off on one
    or our out over so some than that the their them then there these they this those to too up
    us very was way we were what when where which while who why will with you your yours day
    days every really thing things stop scrolling follow link bio grab need see want best also
    img dsc dscn pxl photo picture image video clip final copy edit edited untitled"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(text: str) -> list[str]:
    """Content words of ``text``, lower case and singular ("Lamps, glowing!" -> lamp, glowing)."""
    found: list[str] = []
    for raw in re.findall(r"[^\W\d_]+", text.casefold()):
        word = _singular(raw)
        if len(word) >= 3 and word not in _STOPWORDS:
            found.append(word)
    return found


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class MediaItem:
    """One photo or clip a scene may show."""

    path: Path
    kind: Literal["photo", "clip"]
    words: frozenset[str]
    focus: tuple[float, float] | None = None
    # Clips: length in seconds; photos: None.
    duration: float | None = None
    has_audio: bool = False
    # Pictures of the video's own subject (its reference's ``images:``).
    reference: bool = False
    # Listed in the config's top-level ``images:``: shown on scenes nothing else matches.
    always: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemNote:
    """What the config says about one file of the folder (``media.items``)."""

    file: Path
    tags: tuple[str, ...] = ()
    focus: tuple[float, float] | None = None


@dataclass
class Problem:
    """A file that cannot be used: where it is named, the file, and why."""

    field: str
    path: Path
    reason: str

    def line(self) -> str:
        return f"{self.field}: {self.path}: {self.reason}"


@dataclass
class Library:
    items: list[MediaItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Building the index


def folder_files(folder: Path) -> tuple[list[Path], str | None]:
    """The photos and clips under ``folder`` (by name, sorted, hidden ones skipped), or why the
    folder cannot be listed."""
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        return [], "folder not found"
    except OSError as exc:
        return [], f"cannot be checked ({exc.strerror})"
    if not stat.S_ISDIR(mode):
        return [], "is not a folder"
    found: list[Path] = []

    def walk(current: Path, depth: int) -> None:
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or len(found) >= MAX_ITEMS:
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH:
                    walk(Path(entry.path), depth + 1)
            elif Path(entry.name).suffix.lower() in MEDIA_SUFFIXES:
                found.append(Path(entry.path))

    if not os.access(folder, os.R_OK | os.X_OK):
        return [], "is not readable (permission denied)"
    walk(folder, 0)
    return found, None


def read_sidecar(media: Path) -> tuple[ItemNote | None, Problem | None]:
    """``<file>.yml`` (or ``.yaml``) beside ``media``: its tags and focus, if there is one."""
    import yaml

    from vidgen.files import regular_file_problem

    for suffix in SIDECAR_SUFFIXES:
        sidecar = media.with_name(media.name + suffix)
        if not os.path.lexists(sidecar):
            continue
        problem = regular_file_problem(sidecar)
        if problem is None and sidecar.stat().st_size > MAX_SIDECAR_BYTES:
            problem = f"is larger than {MAX_SIDECAR_BYTES} bytes; a sidecar holds a few tags"
        if problem is not None:
            return None, Problem("sidecar", sidecar, problem)
        try:
            data = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:120]
            return None, Problem("sidecar", sidecar, f"is not readable YAML ({reason})")
        if data is None:
            data = {}
        if isinstance(data, list):  # a bare list of tags
            data = {"tags": data}
        if not isinstance(data, dict) or set(data) - {"tags", "focus"}:
            return None, Problem(
                "sidecar", sidecar, "expected 'tags: [word, ...]' and optionally 'focus: [x, y]'"
            )
        tags, why = parse_tags(data.get("tags"))
        focus, focus_why = parse_focus(data.get("focus"))
        if why or focus_why:
            return None, Problem("sidecar", sidecar, why or focus_why or "")
        return ItemNote(file=media, tags=tags, focus=focus), None
    return None, None


def parse_tags(value: object) -> tuple[tuple[str, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        return (), "tags must be a list of words"
    tags = tuple(str(v).strip() for v in value if str(v).strip())
    if len(tags) > 50 or any(len(tag) > 60 for tag in tags):
        return (), "tags: at most 50, each at most 60 characters"
    return tags, None


def parse_focus(value: object) -> tuple[tuple[float, float] | None, str | None]:
    if value is None:
        return None, None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(0.0 <= float(v) <= 1.0 for v in value)
    ):
        return (float(value[0]), float(value[1])), None
    return None, "focus must be [x, y], each between 0 and 1 (0.5, 0.5 is the centre)"


def _item(
    facts: MediaFacts,
    tags: Iterable[str],
    focus: tuple[float, float] | None,
    *,
    extra_words: Iterable[str] = (),
    reference: bool = False,
    always: bool = False,
) -> MediaItem:
    tag_list = tuple(tags)
    named = words(re.sub(r"[_\-.]+", " ", facts.path.stem))
    described = words(" ".join(tag_list))
    return MediaItem(
        path=facts.path,
        kind=facts.kind,
        words=frozenset([*named, *described, *extra_words]),
        focus=focus,
        duration=facts.duration,
        has_audio=facts.has_audio,
        reference=reference,
        always=always,
        tags=tag_list,
    )


@dataclass(frozen=True)
class _Pending:
    path: Path
    where: str
    tags: tuple[str, ...]
    focus: tuple[float, float] | None
    reference: bool = False
    always: bool = False


def build_library(
    *,
    folder: Path | None = None,
    folder_field: str = "config.media.path",
    notes: Sequence[ItemNote] = (),
    reference_images: Sequence[tuple[str, Path]] = (),
    reference_words: Iterable[str] = (),
    always_images: Sequence[Path] = (),
    always_field: str = "config.images",
) -> Library:
    """Index every usable item, and list every unusable one as a ``Problem``.

    ``notes`` are the config's words about folder files (relative to ``folder`` or absolute);
    a sidecar's tags add to them. ``reference_images`` are the subject's own pictures as
    (config field, path); they also carry ``reference_words`` (the reference's title and
    tags). ``always_images`` are the config's top-level ``images:``. A file named twice is
    indexed once, as the first of those kinds. Files are probed four at a time: each probe is
    one short ffmpeg run, mostly waiting on the file.
    """
    library = Library()
    pending: list[_Pending] = []
    seen: set[Path] = set()

    def queue(path: Path, where: str, configured: ItemNote | None = None, **flags: bool) -> None:
        key = path.absolute()
        if key in seen:
            return
        seen.add(key)
        note, problem = read_sidecar(path)
        if problem is not None:
            library.problems.append(problem)
            return
        tags = (*(configured.tags if configured else ()), *(note.tags if note else ()))
        focus = (note.focus if note else None) or (configured.focus if configured else None)
        pending.append(_Pending(path, where, tags, focus, **flags))

    for where, image in reference_images:
        queue(image, where, reference=True)
    if folder is not None:
        files, why = folder_files(folder)
        if why is not None:
            library.problems.append(Problem(folder_field, folder, why))
        by_file = {(n.file if n.file.is_absolute() else folder / n.file): n for n in notes}
        listed = set(files)
        for path in by_file:
            if path not in listed and why is None:
                library.problems.append(
                    Problem("config.media.items", path, "is not a photo or clip in the folder")
                )
        for path in files:
            queue(path, f"{folder_field} ({path.name})", by_file.get(path))
    for index, image in enumerate(always_images):
        queue(image, f"{always_field}[{index}]", always=True)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        probed = list(pool.map(lambda entry: inspect_media(entry.path), pending))
    extra = words(" ".join(reference_words))
    for entry, facts in zip(pending, probed, strict=True):
        if isinstance(facts, str):
            library.problems.append(Problem(entry.where, entry.path, facts))
            continue
        library.items.append(
            _item(
                facts,
                entry.tags,
                entry.focus,
                extra_words=extra if entry.reference else (),
                reference=entry.reference,
                always=entry.always,
            )
        )
    return library


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class SceneWords:
    """What one scene says, by where it says it."""

    subjects: Sequence[str] = ()
    keywords: Sequence[str] = ()
    narration: str = ""
    video_subject: Sequence[str] = ()

    def weights(self) -> dict[str, float]:
        """Each word's weight: the most any place that says it gives. A keyword that is only
        the video's subject again (planners add the product's words to every scene) counts
        as the video's subject, so the scene's own things win over the product shot."""
        video = set(words(" ".join(self.video_subject)))
        own = set(words(" ".join([self.narration, *self.subjects])))
        weighted: dict[str, float] = {}
        for weight, texts in (
            (WEIGHT_VIDEO_SUBJECT, self.video_subject),
            (WEIGHT_NARRATION, [self.narration]),
            (WEIGHT_KEYWORD, self.keywords),
            (WEIGHT_SUBJECT, self.subjects),
        ):
            for word in words(" ".join(texts)):
                if weight == WEIGHT_KEYWORD and word in video and word not in own:
                    weight_here = WEIGHT_VIDEO_SUBJECT
                else:
                    weight_here = weight
                weighted[word] = max(weighted.get(word, 0.0), weight_here)
        return weighted


@dataclass(frozen=True)
class Match:
    item: MediaItem
    score: float
    matched: tuple[str, ...]  # the scene's words the item shares, for the generation log


def score(item: MediaItem, weights: dict[str, float]) -> tuple[float, tuple[str, ...]]:
    shared = sorted(item.words & weights.keys(), key=lambda w: (-weights[w], w))
    total = sum(weights[w] for w in shared)
    if total > 0 and item.reference:
        total += REFERENCE_BONUS
    return total, tuple(shared)


def match_scenes(items: Sequence[MediaItem], scenes: Sequence[SceneWords]) -> list[Match | None]:
    """The best item for each scene, or None when nothing it says matches an item.

    Items of the config's top-level ``images:`` fill scenes nothing matches (the least used
    one). An item is never shown in two scenes in a row while another one matches the second,
    and each earlier use counts against an item, so the pictures spread over the video.
    """
    uses: dict[Path, int] = {}
    picks: list[Match | None] = []
    previous: Path | None = None
    for scene in scenes:
        weights = scene.weights()
        # (score less reuse, how much of the item the scene names, earlier listed first)
        ranked: list[tuple[float, float, int, Match]] = []
        for order, item in enumerate(items):
            value, shared = score(item, weights)
            if value > 0:
                adjusted = value - REUSE_PENALTY * uses.get(item.path, 0)
                # On a tie the tighter match wins: "kettle.jpg" for the scene that only says
                # kettle, leaving "kettle-backpack.jpg" for the one that says backpack.
                tight = len(shared) / max(1, len(item.words))
                ranked.append((adjusted, tight, -order, Match(item, value, shared)))
        if not ranked:
            fillers = [item for item in items if item.always]
            ranked = [
                (-float(uses.get(item.path, 0)), 0.0, -order, Match(item, 0.0, ()))
                for order, item in enumerate(fillers)
            ]
        ranked.sort(key=lambda entry: entry[:3], reverse=True)
        fresh = [entry for entry in ranked if entry[3].item.path != previous]
        chosen = (fresh or ranked)[0][3] if ranked else None
        picks.append(chosen)
        previous = chosen.item.path if chosen else None
        if chosen is not None:
            uses[chosen.item.path] = uses.get(chosen.item.path, 0) + 1
    return picks


# --------------------------------------------------------------------------------------------
# From a theme config


def config_library(
    config: ThemeConfig, subject: str | None = None, *, all_references: bool = False
) -> Library:
    """The library a job draws from: the ``media:`` folder, the top-level ``images:`` and the
    ``images:`` of the reference the video is about (``subject``, its title), or of every
    reference with ``all_references`` (what ``generate`` checks, before a plan exists)."""
    settings = config.config
    notes = (
        [ItemNote(Path(n.file), tuple(n.tags), n.focus) for n in settings.media.items]
        if settings.media is not None
        else []
    )
    reference_images: list[tuple[str, Path]] = []
    reference_words: list[str] = []
    for ref_index, ref in enumerate(config.content_references):
        if not all_references and (subject is None or ref.title.casefold() != subject.casefold()):
            continue
        for index, image in enumerate(ref.images):
            field = f"content_references[{ref_index}].images[{index}]"
            reference_images.append((field, config.resolve_path(Path(image))))
        reference_words.extend([ref.title, *ref.tags])
    return build_library(
        folder=config.media_folder,
        notes=notes,
        reference_images=reference_images,
        reference_words=[] if all_references else reference_words,
        always_images=[config.resolve_path(p) for p in settings.images],
    )


def check_config_media(config: ThemeConfig) -> None:
    """``generate``'s check: every photo and clip the config names, or its folder holds, is a
    readable file ffmpeg decodes; else ``InvalidInput`` naming the config, the field and the
    file (the first problem; the others show up once it is fixed)."""
    settings = config.config
    named = settings.media is not None or bool(settings.images)
    named = named or any(ref.images for ref in config.content_references)
    if not named:
        return
    library = config_library(config, all_references=True)
    if library.problems:
        where = str(config.source) if config.source is not None else "config"
        first = library.problems[0]
        fix = "fix the folder's path" if first.path == config.media_folder else "fix or remove it"
        raise InvalidInput(f"{where}: {first.line()}; {fix}")
