"""Theme configuration: the YAML file a job is generated from.

Shape (see ``sample-data.yml``): a ``config:`` block with the theme, platform, duration, style,
render profile and providers per stage, and ``content_references:`` with the products or topics
the video talks about. Every problem is reported as ``<file>: <field>: <reason>`` before a job
is queued.

Lookup order when no ``--config`` is given: ``$VIDGEN_CONFIG``, then ``$VIDGEN_HOME/config.yml``
(created from the shipped sample on first use). The working directory plays no part, so
``make run``, plain ``vidgen`` and cron (starting in ``$HOME``) all use the same file.

A job renders the config as ``generate`` checked it: ``snapshot`` is that config with its
relative file paths resolved, stored with the job (``load_snapshot`` reads it back).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Re-exported: callers find the config file lookup and the YAML loader in vidgen.config.
from vidgen.config_files import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from vidgen.config_files import MAX_YAML_ALIASES as MAX_YAML_ALIASES
from vidgen.config_files import MAX_YAML_DEPTH as MAX_YAML_DEPTH
from vidgen.config_files import default_config_path as default_config_path
from vidgen.config_files import load_yaml as load_yaml
from vidgen.config_files import packaged_config_path as packaged_config_path
from vidgen.config_files import resolve_config_path as resolve_config_path
from vidgen.errors import InvalidInput
from vidgen.registry import names

MAX_CONFIG_BYTES = 1_000_000

Style = Literal["cinematic", "talking-head", "tutorial", "listicle", "product-demo"]
STYLES: tuple[str, ...] = ("cinematic", "talking-head", "tutorial", "listicle", "product-demo")

# name -> (width, height, fps) at the default 9:16; "preview" keeps tests and drafts fast.
PROFILES: dict[str, tuple[int, int, int]] = {
    "full": (1080, 1920, 30),
    "preview": (360, 640, 30),
}
# aspect -> (width, height) at the full profile; the preview profile is a third of each side.
Aspect = Literal["9:16", "1:1", "4:5", "16:9"]
ASPECTS: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
    "16:9": (1920, 1080),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Same rule as --theme: text ends up in plans, overlays and argv of TTS tools.
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str):
                bad = next((ch for ch in text if ord(ch) < 32 and ch not in "\n\t"), None)
                if bad is not None:
                    raise ValueError(f"contains control character {bad!r}; remove it")
        return value


if TYPE_CHECKING:
    TrendsName = str
    AnalysisName = str
    PlannerName = str
    VisualsName = str
    TtsName = str
else:
    # The allowed names come from the registry (a Literal of them: same validation and errors).
    TrendsName = Literal[names("trends")]
    AnalysisName = Literal[names("analysis")]
    PlannerName = Literal[names("planner")]
    VisualsName = Literal[names("visuals")]
    TtsName = Literal[names("tts")]


class Providers(_Strict):
    trends: TrendsName = "sample"
    analysis: AnalysisName = "local"
    planner: PlannerName = "local"
    visuals: VisualsName = "procedural"
    tts: TtsName = "piper"


class Voice(_Strict):
    name: str = Field(
        "en-us",
        min_length=1,
        max_length=255,
        description="espeak-ng voice, Piper voice (name, language or .onnx path) or API voice",
    )
    rate: int = Field(165, ge=80, le=400, description="words per minute")


class Music(_Strict):
    path: Path
    volume: float = Field(0.25, ge=0.0, le=1.0)


class Originality(_Strict):
    """How a new video is kept apart from the ones made from the same config file and theme."""

    days: int = Field(14, ge=0, le=365, description="how far back to compare; 0 turns it off")
    threshold: float = Field(
        0.6, gt=0, le=1, description="similarity (0-1) of script or scenes that counts as a copy"
    )
    on_duplicate: Literal["fail", "warn"] = "fail"


def _music_shorthand(value: Any) -> Any:
    # `music: none` (or false) turns the default bed off; `music: some/file.mp3` is a path.
    if value is False or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return "none"
    if isinstance(value, str):
        return {"path": value}
    if value is None or isinstance(value, dict | Music):
        return value
    # Otherwise pydantic reports each member of the union, with internal class names.
    raise ValueError("must be a file path, {path: FILE, volume: 0.25} or none")


class MediaItemNote(_Strict):
    """What the config says about one file of the media folder (a sidecar may say more)."""

    file: Path = Field(description="file name, relative to the media folder")
    tags: list[str] = Field(default_factory=list, max_length=50)
    focus: tuple[float, float] | None = Field(
        None, description="where the subject is, [x, y] in 0..1 of the width and height"
    )

    @field_validator("tags")
    @classmethod
    def _tags_short(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag.strip() or len(tag) > 60:
                raise ValueError("each tag must be 1-60 characters")
        return tags

    @field_validator("focus")
    @classmethod
    def _focus_in_frame(cls, focus: tuple[float, float] | None) -> tuple[float, float] | None:
        if focus is not None and not all(0.0 <= v <= 1.0 for v in focus):
            raise ValueError("focus must be [x, y], each between 0 and 1 (0.5, 0.5 is the centre)")
        return focus


class Media(_Strict):
    """Your own photos and clips: a folder (relative to the config file), matched to scenes."""

    path: Path
    items: list[MediaItemNote] = Field(default_factory=list, max_length=300)


def _media_shorthand(value: Any) -> Any:
    # `media: my-media` is the folder alone.
    if isinstance(value, str | Path):
        return {"path": value}
    return value


class ThemeSettings(_Strict):
    theme: str = Field("default", min_length=1, max_length=200)
    target_platform: Literal["tiktok", "youtube_shorts", "instagram_reels"] = "tiktok"
    video_duration_seconds: float = Field(20, ge=6, le=180)
    style: Style = "product-demo"
    tone: str = Field("upbeat", max_length=60)
    language: str = Field("en", min_length=2, max_length=10)
    profile: Literal["full", "preview"] = "full"
    # The video's shape: 9:16 for TikTok/Reels/Shorts, 1:1 and 4:5 for feeds, 16:9 for YouTube.
    aspect: Aspect = "9:16"
    scenes: int | None = Field(None, ge=3, le=6, description="scene count; default from duration")
    voice: Voice = Field(default_factory=lambda: Voice())
    # What the voice says for a word or phrase of the script ({FocusFlow: "focus flow"});
    # captions keep the script's spelling (vidgen.media.pronounce).
    pronunciations: dict[str, str] = Field(default_factory=dict, max_length=200)
    # None: a packaged royalty-free track chosen by style and tone (vidgen.media.music).
    music: Annotated[Music | Literal["none"] | None, BeforeValidator(_music_shorthand)] = None
    thumbnail_time: float = Field(1.0, ge=0)
    providers: Providers = Field(default_factory=lambda: Providers())
    images: list[Path] = Field(default_factory=list, max_length=50)
    media: Annotated[Media | None, BeforeValidator(_media_shorthand)] = None
    trend_limit: int = Field(200, ge=1, le=5000)
    llm_model: str | None = Field(None, max_length=100)
    # An OpenAI-compatible server of your own (Ollama, llama.cpp): no API key needed there.
    llm_base_url: str | None = Field(
        None, max_length=300, pattern=r"^https?://\S+$", description="OpenAI-compatible API root"
    )
    # The call to action: your own words, and/or a link the video points to ("Link in bio").
    cta: str | None = Field(None, min_length=1, max_length=120)
    link: str | None = Field(None, min_length=1, max_length=300)
    originality: Originality = Field(default_factory=lambda: Originality())
    max_cost_usd: float | None = Field(
        None, ge=0, le=10_000, description="most a job may spend on paid providers, in USD"
    )

    @field_validator("pronunciations")
    @classmethod
    def _pronunciations_sane(cls, table: dict[str, str]) -> dict[str, str]:
        for written, spoken in table.items():
            for text in (written, spoken):
                if not text.strip() or len(text) > 100:
                    raise ValueError(f"{written!r}: words and what to say must be 1-100 characters")
                if any(ord(ch) < 32 for ch in text):
                    raise ValueError(f"{written!r}: contains a control character; remove it")
        return {written.strip(): spoken.strip() for written, spoken in table.items()}

    @model_validator(mode="after")
    def _check(self) -> ThemeSettings:
        if self.thumbnail_time >= self.video_duration_seconds:
            raise ValueError(
                f"thumbnail_time {self.thumbnail_time} must be less than "
                f"video_duration_seconds {self.video_duration_seconds}"
            )
        if self.providers.visuals == "images" and not self.images:
            raise ValueError("providers.visuals is 'images' but 'images:' lists no files")
        return self


class ContentReference(_Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    talking_points: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="what the reference is about, for matching --theme and trends",
    )
    # Photos and clips of it, relative to the config file, shown on the scenes they match.
    images: list[Path] = Field(default_factory=list, max_length=20)
    # Your own first and last lines for its videos: the payoff first, a question to answer.
    hook: str | list[str] | None = Field(
        None, description="the opening line said first; a list: one per video, in turn"
    )
    cta: str | list[str] | None = Field(
        None, description="the closing line (default: the config's cta, else a question); "
        "a list: one per video, in turn",
    )  # fmt: skip

    @field_validator("hook", "cta")
    @classmethod
    def _own_lines(cls, value: str | list[str] | None, info: Any) -> str | list[str] | None:
        which = "opening" if info.field_name == "hook" else "closing"
        if isinstance(value, list) and not 1 <= len(value) <= 10:
            raise ValueError(f"give 1-10 {which} lines")
        lines = [value] if isinstance(value, str) else value or []
        if any(not line.strip() or len(line) > 150 for line in lines):
            raise ValueError(f"each {which} line must be 1-150 characters")
        return value

    @property
    def hooks(self) -> list[str]:
        """The reference's opening lines (``hook:``, one or a list), in the order given."""
        return [self.hook] if isinstance(self.hook, str) else list(self.hook or [])

    @property
    def ctas(self) -> list[str]:  # its closing lines: two videos of one product end apart
        return [self.cta] if isinstance(self.cta, str) else list(self.cta or [])

    @field_validator("tags")
    @classmethod
    def _tags_short(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag.strip() or len(tag) > 60:
                raise ValueError("each tag must be 1-60 characters")
        return tags

    @field_validator("talking_points")
    @classmethod
    def _points_not_blank(cls, points: list[str]) -> list[str]:
        for point in points:
            if not point.strip() or len(point) > 300:
                raise ValueError("each talking point must be 1-300 characters")
        return points


if TYPE_CHECKING:
    DestinationName = str
else:
    DestinationName = Literal[names("destinations")]

_TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PublishSettings(_Strict):
    """``publish:``: where an approved video goes, when, and what is sent with it.

    With ``destinations`` listed, ``approve`` schedules one publication per destination at the
    next of ``times`` (in ``timezone``). ``made_for_kids`` has no default on purpose: the
    platforms require the answer (YouTube's ``selfDeclaredMadeForKids``), and guessing it is
    how unattended uploaders got channels flagged; a missing answer refuses to schedule.
    """

    destinations: list[DestinationName] = Field(default_factory=list, max_length=2)
    account: str = Field("default", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    privacy: Literal["public", "unlisted", "private"] = "private"
    times: list[Annotated[str, Field(pattern=_TIME_OF_DAY)]] = Field(
        default_factory=lambda: ["18:00"], min_length=1, max_length=24
    )
    timezone: str = Field("UTC", max_length=60)
    description: str = Field("", max_length=2000, description="appended to the plan's")
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    made_for_kids: bool | None = None
    category: str = Field("22", pattern=r"^[0-9]{1,3}$", description="YouTube category id")
    tiktok_mode: Literal["direct", "inbox"] = "direct"
    max_per_day: int | None = Field(None, ge=1, le=1000, description="per destination")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        if zone == "UTC":  # needs no time zone database (slim containers have none)
            return zone
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {zone!r}; use an IANA name such as Europe/Berlin or UTC "
                "(a system without a time zone database needs: pip install tzdata)"
            ) from None
        return zone

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag.strip() or len(tag) > 100 or " " in tag.strip():
                raise ValueError("each hashtag must be one word of 1-100 characters")
        return tags

    @model_validator(mode="after")
    def _kids_answered(self) -> PublishSettings:
        if self.destinations and self.made_for_kids is None:
            raise ValueError(
                "made_for_kids is not set: say true or false explicitly (the platforms "
                "require it and vidgen never guesses it)"
            )
        return self


class ThemeConfig(_Strict):
    config: ThemeSettings
    content_references: list[ContentReference] = Field(min_length=1, max_length=50)
    publish: PublishSettings | None = None
    source: Path | None = Field(None, exclude=True, description="file this was loaded from")
    file_theme: str | None = Field(
        None, exclude=True, description="the file's own theme, before any --theme override"
    )

    @property
    def theme_is_explicit(self) -> bool:
        """True when the job's theme (``--theme``) differs from the one the file states."""
        if self.file_theme is None:
            return False
        return self.config.theme.casefold().strip() != self.file_theme.casefold().strip()

    @property
    def resolution(self) -> tuple[int, int, int]:
        width, height, fps = PROFILES[self.config.profile]
        if self.config.aspect != "9:16":
            scale = width / PROFILES["full"][0]  # the preview profile: a third of full size
            full_w, full_h = ASPECTS[self.config.aspect]
            width, height = round(full_w * scale / 2) * 2, round(full_h * scale / 2) * 2
        return width, height, fps

    @property
    def voice_name(self) -> str:
        """``voice.name`` for the TTS provider; a voice given as a model file (a Piper
        ``.onnx``) is resolved against the config file like music and images."""
        name = self.config.voice.name
        if name.endswith(".onnx") or "/" in name or "\\" in name:
            return str(self.resolve_path(Path(name).expanduser()))
        return name

    def named_files(self) -> list[tuple[str, Path]]:
        """(field, resolved path) of every input file this config names."""
        named: list[tuple[str, Path]] = []
        if isinstance(self.config.music, Music):  # not None (default bed) or "none"
            named.append(("config.music.path", self.resolve_path(self.config.music.path)))
        for index, image in enumerate(self.config.images):
            named.append((f"config.images[{index}]", self.resolve_path(image)))
        for ref_index, ref in enumerate(self.content_references):
            for index, image in enumerate(ref.images):
                named.append(
                    (f"content_references[{ref_index}].images[{index}]", self.resolve_path(image))
                )
        if self.config.voice.name.endswith(".onnx"):
            named.append(("config.voice.name", Path(self.voice_name)))
        return named

    def check_files(self) -> None:
        """Every file the config names is a readable regular file, or InvalidInput with the
        config file, the field and the reason. Checked at ``generate`` time with ``stat``,
        never by opening: a FIFO would block (see ``files.regular_file_problem``)."""
        from vidgen.files import regular_file_problem

        where = str(self.source) if self.source is not None else "config"
        for field, path in self.named_files():
            problem = regular_file_problem(path)
            if problem is not None:
                raise InvalidInput(f"{where}: {field}: {path}: {problem}; fix the path")

    @property
    def media_folder(self) -> Path | None:
        """The ``media:`` folder, resolved against the config file (None without one)."""
        media = self.config.media
        return None if media is None else self.resolve_path(Path(media.path).expanduser())

    def resolve_path(self, path: Path) -> Path:
        """Relative media paths in a config are relative to the config file, not the cwd."""
        if path.is_absolute() or self.source is None:
            return path
        return (self.source.parent / path).resolve()

    def snapshot(self) -> dict[str, Any]:
        """This config as checked, JSON-ready, its relative file paths made absolute: what a
        job renders, however the file (or its folder) changes after ``generate``."""
        data = self.model_dump(mode="json")
        block = data["config"]
        if isinstance(self.config.music, Music):
            block["music"]["path"] = str(self.resolve_path(self.config.music.path))
        block["images"] = [str(self.resolve_path(image)) for image in self.config.images]
        block["voice"]["name"] = self.voice_name
        return {
            "snapshot_version": 1,
            "source": str(self.source) if self.source is not None else None,
            "file_theme": self.file_theme,
            "theme_config": data,
        }


def _format_loc(loc: tuple[int | str, ...], *, user_key: bool = False) -> str:
    """``config.voice.name``, ``images[2]``; ``user_key``: the last item is a key the user
    wrote (an unknown one), kept whatever it looks like."""
    parts: list[str] = []
    for position, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif (user_key and position == len(loc) - 1) or not _is_union_tag(item):
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _is_union_tag(item: str) -> bool:
    # Where a value fits none of a union's members, pydantic's location names each member
    # ("Music", "literal['none']", "function-after[...]"): its words, not the user's.
    return "[" in item or item in {"Music", "Voice", "Providers", "ContentReference"}


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model that holds the field at ``loc`` (for "did you mean" suggestions)."""
    import typing

    model: type[BaseModel] = ThemeConfig
    for item in loc:
        if isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return None
        found = None
        pending: list[Any] = [field.annotation]
        while pending:
            tp = pending.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                found = tp
                break
            pending.extend(typing.get_args(tp))
        if found is None:
            return None
        model = found
    return model


def _describe_error(err: Any) -> str:
    """One problem as ``<field>: <reason>``, with a suggestion for a misspelled key."""
    loc = tuple(err["loc"])
    field = _format_loc(loc, user_key=err["type"] == "extra_forbidden")
    if err["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
        import difflib

        model = _model_at(loc[:-1])
        known = sorted(model.model_fields) if model is not None else []
        known = [name for name in known if name not in ("source", "file_theme")]
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"{field}: unknown key; {hint}"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {str(got)[:60]!r})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        msg = "must be a block of 'key: value' settings (indented under it)"  # not "Voice"
    return f"{field}: {msg}{shown}"


def load_config(path: Path) -> ThemeConfig:
    """Read, parse and validate a theme config; raise InvalidInput with file, field and fix."""
    where = str(path)
    try:
        if not path.exists():
            raise InvalidInput(f"{where}: config file not found; name an existing theme file")
        if not path.is_file():
            raise InvalidInput(f"{where}: not a regular file; name a YAML theme file")
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InvalidInput(
                f"{where}: config is {size} bytes, more than the {MAX_CONFIG_BYTES} allowed; "
                "a theme config is a small YAML file"
            )
        data = path.read_bytes()
        key = (str(path.absolute()), data)
        cached = _parsed.get(key)
        if cached is not None:  # same file, same bytes: skip YAML parsing and validation
            return cached.model_copy(deep=True)
    except PermissionError:
        raise InvalidInput(f"{where}: cannot read the config file (permission denied)") from None
    except OSError as exc:
        raise InvalidInput(f"{where}: cannot read the config file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    try:
        raw = load_yaml(text)
    except ValueError as exc:  # a 5000-digit integer, a date like 2024-13-45
        reason = " ".join(str(exc).split(";")[0].split())
        raise InvalidInput(f"{where}: invalid YAML: cannot read a value ({reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(f"{where}: invalid YAML{at}: {problem}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"{where}: expected a mapping with 'config:' and 'content_references:' at the top level"
        )
    try:
        cfg = ThemeConfig.model_validate(raw)
    except ValidationError as exc:
        # Every problem at once (one line, "; " between them): fixing one at a time is slow.
        problems = list(dict.fromkeys(_describe_error(err) for err in exc.errors()))
        raise InvalidInput(f"{where}: {'; '.join(problems)}") from None
    cfg = cfg.model_copy(update={"source": path.absolute(), "file_theme": cfg.config.theme})
    if len(_parsed) >= 32:
        _parsed.clear()
    _parsed[key] = cfg
    return cfg.model_copy(deep=True)


SNAPSHOT_NAME = "config-snapshot.json"


def load_snapshot(path: Path) -> ThemeConfig | None:
    """The config a job was queued with (``ThemeConfig.snapshot`` written as JSON at ``path``),
    or None when the job has none (queued by an older vidgen, or its folder was pruned).
    InvalidInput if it is unreadable or no longer valid."""
    import json

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read the job's config snapshot ({exc})") from None
    try:
        cfg = ThemeConfig.model_validate(raw["theme_config"])
    except (ValidationError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{path}: the job's config snapshot is invalid ({exc})") from None
    source = raw.get("source")
    return cfg.model_copy(
        update={
            "source": Path(source) if isinstance(source, str) else None,
            "file_theme": raw.get("file_theme") or cfg.config.theme,
        }
    )


# Parsed configs by (absolute path, file bytes). A worker loads the same theme file for every
# job; pure-Python YAML parsing plus validation was ~10 ms of each job's orchestration cost.
# Keyed on the content, so an edited file is always parsed again.
_parsed: dict[tuple[str, bytes], ThemeConfig] = {}
