"""Captions that quote the narration word for word: cues, karaoke ASS and SRT.

The words of a cue are the script's own whitespace-separated tokens, punctuation and spelling
included ("FocusFlow", "$49,"), so a caption never reads differently from what the plan says.
Timings come from the voice engine's word timings (espeak-ng's word events, Piper's phoneme
alignments): each timed word is a slice of the script, located in order, and a script token
takes the time of the timed words inside it ("$49" is spoken as three words, shown as one).

Rules every cue keeps (tests check them):

- 1 to ``MAX_CUE_WORDS`` words, all from one sentence; a sentence's cues read, joined, exactly
  as the sentence in the script;
- cues break at clause punctuation first, then into balanced parts (5 words are 3 + 2, never
  4 + 1), so no phrase is cut after a lonely word when it can be helped;
- a cue is shown from its first word's start until the next cue starts (short pauses) or a
  moment after its last word.

The ASS writer highlights the word being spoken (one event per word, the active word in the
highlight colour) and places the text inside the platforms' safe area; the SRT writer gives the
same cues as plain text for upload (YouTube, TikTok). Everything here is pure: text in, text out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

MAX_CUE_WORDS = 4
# Hold a cue over a pause shorter than this, so the caption does not flicker to nothing.
HOLD_GAP = 0.5
# After the last word of a cue followed by a longer pause, keep it up this long.
LINGER = 0.3
_CLOSERS = r"[\"'\u201d\u2019)\]\u00bb]*$"
SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\u061f]+" + _CLOSERS)
CLAUSE_END = re.compile(r"[,;:\u060c\u2014\u2013]+" + _CLOSERS)
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class CueWord:
    """A word exactly as written in the script, and when it is heard."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    words: tuple[CueWord, ...]
    start: float
    end: float
    sentence: int  # index of the script sentence the cue belongs to

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


def _has_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def split_sentences(script: str) -> list[list[tuple[int, int]]]:
    """The script's tokens (character ranges) grouped into sentences.

    A token ending in . ! ? or ... (closing quotes allowed) ends a sentence, the same rule the
    voice engines use to pause; decimals such as "3.5" do not end one.
    """
    sentences: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(script):
        current.append((match.start(), match.end()))
        if SENTENCE_END.search(match.group()):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def locate_words(
    script: str, words: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int, float, float]]:
    """Character range and timing of each timed word, found in order in the script.

    Every provider reports words as slices of the text it was given, so a forward search finds
    each one; a word that is not found (a provider that rewrote the text) is skipped.
    """
    located: list[tuple[int, int, float, float]] = []
    cursor = 0
    for word in words:
        text = str(word.get("text", "")).strip()
        if not text:
            continue
        at = script.find(text, cursor)
        if at < 0:
            continue
        start, end = float(word["start"]), float(word["end"])
        located.append((at, at + len(text), start, max(start, end)))
        cursor = at + len(text)
    return located


def timed_sentences(
    script: str,
    words: Sequence[Mapping[str, Any]],
    sentences: Sequence[Mapping[str, Any]] = (),
) -> list[list[CueWord]]:
    """The script's words per sentence, each timed by the voice's word timings.

    A token with no timed word inside it (a dash, an emoji the voice skipped) gets the gap
    between its neighbours; a token of punctuation alone joins the word before it so that no
    caption shows a bare "—". Without any word timings the sentence timings are shared among
    their words by length, the only estimate left.
    """
    located = locate_words(script, words)
    groups = split_sentences(script)
    if not located:
        located = _estimate_from_sentences(script, groups, sentences)
    out: list[list[CueWord]] = []
    index = 0
    for group in groups:
        timed: list[tuple[str, float | None, float | None]] = []
        for first, last in group:
            starts: list[float] = []
            ends: list[float] = []
            while index < len(located) and located[index][0] < last:
                _, b, start, end = located[index]
                if b > first:
                    starts.append(start)
                    ends.append(end)
                index += 1
            text = script[first:last]
            timing = (min(starts), max(ends)) if starts else (None, None)
            if not _has_word(text) and timed:
                prev_text, prev_start, prev_end = timed[-1]
                timed[-1] = (f"{prev_text} {text}", prev_start, timing[1] or prev_end)
                continue
            timed.append((text, *timing))
        out.append(_fill_gaps(timed))
    return [sentence for sentence in out if sentence]


def _fill_gaps(timed: Sequence[tuple[str, float | None, float | None]]) -> list[CueWord]:
    words: list[CueWord] = []
    known = [(s, e) for _, s, e in timed if s is not None and e is not None]
    if not known:
        return []
    for i, (text, start, end) in enumerate(timed):
        if start is None or end is None:
            before = words[-1].end if words else known[0][0]
            after = next((s for _, s, _ in timed[i + 1 :] if s is not None), before + 0.2)
            start, end = before, max(before + 0.05, after)
        words.append(CueWord(text, round(start, 3), round(max(end, start + 0.01), 3)))
    return words


def _estimate_from_sentences(
    script: str,
    groups: Sequence[Sequence[tuple[int, int]]],
    sentences: Sequence[Mapping[str, Any]],
) -> list[tuple[int, int, float, float]]:
    spans = [(float(s["start"]), float(s["end"])) for s in sentences]
    located: list[tuple[int, int, float, float]] = []
    for group, (start, end) in zip(groups, spans, strict=False):
        weights = [last - first + 1 for first, last in group]
        total = sum(weights) or 1
        clock = start
        for (first, last), weight in zip(group, weights, strict=True):
            step = (end - start) * weight / total
            located.append((first, last, clock, clock + step))
            clock += step
    return located


# Words a caption never ends on: "...two centimeters and" / "cups of tea or" leave the reader
# hanging until the next cue.
_WEAK_ENDS = frozenset(
    re.findall(
        r"\w+",
        "a an and or of the to in on for with at by from but nor as that than your their its",
    )
)


_NUMBER_WORDS = frozenset(
    re.findall(
        r"\w+",
        "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
        "forty fifty sixty hundred thousand million half",
    )
)


def _weak(word: CueWord) -> bool:
    """A word a cue should not end on: a function word, or a number whose unit follows ("210 /
    grams" and "three / hours" split a figure the reader needs whole)."""
    return weak_end(word.text)


def weak_end(text: str) -> bool:
    """``_weak`` for a bare word."""
    bare = text.lower().strip(".,;:!?\"'")
    if CLAUSE_END.search(text):
        return False
    return bare in _WEAK_ENDS or bare in _NUMBER_WORDS or bare.replace(".", "").isdigit()


def _bound(left: str, right: str) -> bool:
    """Two words a break between them would tear apart: a weak end and what it leads to, or
    two capitalised words of one name ("StrideLite / Running Shoes")."""
    if weak_end(left):
        return True
    return (
        not CLAUSE_END.search(left)
        and left[:1].isupper()
        and right[:1].isupper()
        and left.lower() not in ("i",)
    )


def _balanced(words: Sequence[CueWord], limit: int) -> list[list[CueWord]]:
    """``words`` as the fewest cues of at most ``limit`` words, as even as they can be, never
    breaking after a weak end ("...two centimeters and" / "cups of tea or" leave the reader
    hanging) or inside a name ("the StrideLite / Running Shoes") - one cue more when that is
    what it takes ("Plus, they give three / hours" read as two things)."""
    n = len(words)
    if n <= limit:
        return [list(words)]
    texts = tuple(w.text for w in words)
    fewest = math.ceil(n / limit)
    best: tuple[tuple[int, float], tuple[int, ...]] | None = None
    for parts in (fewest, fewest + 1):
        found = _split(texts, limit, parts)
        if found is not None and (best is None or found[0][0] < best[0][0]):
            best = found
        if best is not None and best[0][0] == 0:
            break
    assert best is not None  # ``fewest`` parts of at most ``limit`` words always exist
    out: list[list[CueWord]] = []
    at = 0
    for size in best[1]:
        out.append(list(words[at : at + size]))
        at += size
    return out


@lru_cache(maxsize=4096)  # a worker runs for days: bounded
def _split(
    texts: tuple[str, ...], limit: int, parts: int
) -> tuple[tuple[int, float], tuple[int, ...]] | None:
    """The best sizes for ``texts`` in ``parts`` cues of 1..``limit`` words and their cost:
    (breaks that tear a name or follow a weak end, spread of the sizes)."""
    n, mean = len(texts), len(texts) / parts

    @cache
    def plan(at: int, left: int) -> tuple[tuple[int, float], tuple[int, ...]] | None:
        if left == 1:
            size = n - at
            return ((0, (size - mean) ** 2), (size,)) if 1 <= size <= limit else None
        options = []
        for size in range(1, min(limit, n - at - 1) + 1):
            rest = plan(at + size, left - 1)
            if rest is None:
                continue
            (torn, spread), sizes = rest
            torn += _bound(texts[at + size - 1], texts[at + size])
            options.append(((torn, spread + (size - mean) ** 2), (size, *sizes)))
        # Equal spreads: the longer cue first, as a reader takes a line in.
        return min(options, key=lambda o: (o[0], [-x for x in o[1]]), default=None)

    return plan(0, parts)


def group_words(sentence: Sequence[CueWord], limit: int = MAX_CUE_WORDS) -> list[list[CueWord]]:
    """One sentence's words as cues of 1..``limit`` words, broken at clauses first."""
    clauses: list[list[CueWord]] = []
    current: list[CueWord] = []
    for word in sentence:
        current.append(word)
        if CLAUSE_END.search(word.text):
            clauses.append(current)
            current = []
    if current:
        clauses.append(current)
    # A one-word clause ("First,") reads better with what follows than alone.
    merged: list[list[CueWord]] = []
    for clause in clauses:
        if merged and len(merged[-1]) == 1:
            merged[-1] = merged[-1] + clause
        else:
            merged.append(clause)
    if len(merged) > 1 and len(merged[-1]) == 1 and len(merged[-2]) < limit:
        merged[-2] = merged[-2] + merged.pop()
    return [part for clause in merged for part in _balanced(clause, limit)]


def _fitting(chunk: list[CueWord], fits: Callable[[Sequence[str]], bool]) -> list[list[CueWord]]:
    """``chunk`` split into balanced parts until each fits (a single word always stays)."""
    if len(chunk) <= 1 or fits([w.text for w in chunk]):
        return [chunk]
    for parts in range(2, len(chunk) + 1):
        size, extra = divmod(len(chunk), parts)
        pieces, at = [], 0
        for k in range(parts):
            take = size + (1 if k < extra else 0)
            pieces.append(chunk[at : at + take])
            at += take
        if all(len(p) == 1 or fits([w.text for w in p]) for p in pieces):
            return pieces
    return [[w] for w in chunk]


def build_cues(
    script: str,
    words: Sequence[Mapping[str, Any]],
    sentences: Sequence[Mapping[str, Any]] = (),
    *,
    total: float,
    limit: int = MAX_CUE_WORDS,
    fits: Callable[[Sequence[str]], bool] | None = None,
) -> list[Cue]:
    """Caption cues for ``script`` spoken with these word (or sentence) timings.

    ``fits(words)`` says whether a cue's words fit the caption box (two lines at the caption
    size, ``caption_fits``); a cue that does not is split further, into balanced parts."""
    chunks: list[tuple[int, list[CueWord]]] = []
    for number, sentence in enumerate(timed_sentences(script, words, sentences)):
        for chunk in group_words(sentence, limit):
            parts = _fitting(chunk, fits) if fits is not None else [chunk]
            chunks += [(number, part) for part in parts]
    cues: list[Cue] = []
    for k, (number, chunk) in enumerate(chunks):
        start = chunk[0].start
        if start >= total:
            break
        end = chunk[-1].end
        if k + 1 < len(chunks):
            following = chunks[k + 1][1][0].start
            end = following if following - end < HOLD_GAP else min(end + LINGER, following)
        else:
            end += LINGER
        end = min(end, total)
        if end > start:
            cues.append(Cue(tuple(chunk), round(start, 3), round(end, 3), number))
    return cues


# -- writers -----------------------------------------------------------------------------------


def _srt_time(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the cue's words."""
    blocks = [
        f"{n}\n{_srt_time(cue.start)} --> {_srt_time(cue.end)}\n{cue.text}\n"
        for n, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue in an SRT file (for tests and tools)."""
    out: list[tuple[float, float, str]] = []
    stamp = re.compile(r"(\d+):(\d\d):(\d\d),(\d{3})")

    def seconds(match: re.Match[str]) -> float:
        h, m, s, ms = (int(g) for g in match.groups())
        return h * 3600 + m * 60 + s + ms / 1000

    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        if len(lines) < 3:
            continue
        times = list(stamp.finditer(lines[1]))
        if len(times) != 2:
            continue
        out.append((seconds(times[0]), seconds(times[1]), "\n".join(lines[2:])))
    return out


@dataclass(frozen=True)
class CaptionLook:
    """How captions look, as fractions of the frame so every profile looks alike."""

    font: str = "Roboto"
    # libass sizes a font by its line height (OS/2 win ascent + descent, 1.32 em for Roboto):
    # 0.115 of the width is a ~93 px em at 1080 wide, capitals ~66 px tall. A viewer holding a
    # phone at arm's length asked for 60-80 px; 0.068 (44 px capitals) read as small print.
    size_ratio: float = 0.115
    fill: tuple[int, int, int] = (255, 255, 255)
    highlight: tuple[int, int, int] = (255, 222, 40)
    outline_ratio: float = 0.085  # of the font size
    # Bottom of the caption block, as a fraction of the frame height from the bottom: above the
    # ~20% the platforms cover with the caption, handle and music ticker.
    bottom_margin: float = 0.21
    # Clear of the like/comment/share column on the right, and as much on the left: the
    # captions centred under the centred pictures (0.06 / 0.15 put them ~50 px left of the
    # pictures' centre, which two viewers saw).
    left_margin: float = 0.13
    right_margin: float = 0.13
    max_lines: int = 2


CAPTION_LOOK = CaptionLook()


def caption_look(width: int, height: int) -> CaptionLook:
    """The caption look for a frame shape. 9:16 keeps ``CAPTION_LOOK``; feeds (1:1, 4:5) and
    16:9 have no caption/handle overlay in their bottom fifth nor a button column on the right,
    so captions sit lower and centred, sized by the frame's short side (a little smaller on
    the wide frame, watched larger)."""
    if height >= width * 1.6:
        return CAPTION_LOOK
    short = min(width, height)
    factor = 0.7 if width > height else 0.8
    return CaptionLook(
        size_ratio=CAPTION_LOOK.size_ratio * factor * short / width,
        bottom_margin=0.07 if width > height else 0.08,
        left_margin=0.08,
        right_margin=0.08,
    )


@cache
def _em_per_size() -> float:
    """The em of the caption font as a fraction of its ASS size (libass sets the size as the
    font's OS/2 win ascent + descent)."""
    import importlib

    from vidgen.media.overlays import font_chain

    tt_font: Any = importlib.import_module("fontTools.ttLib").TTFont
    with tt_font(str(font_chain()[0]), lazy=True) as font:
        os2 = font["OS/2"]
        return float(font["head"].unitsPerEm) / float(os2.usWinAscent + os2.usWinDescent)


def caption_size(width: int, look: CaptionLook = CAPTION_LOOK) -> int:
    """The captions' ASS font size (its line height) in pixels for a frame ``width`` wide."""
    return max(8, round(width * look.size_ratio))


def caption_cap_height(width: int, look: CaptionLook = CAPTION_LOOK) -> float:
    """How tall a capital letter of the captions is, in pixels (Roboto: 0.711 em)."""
    return caption_size(width, look) * _em_per_size() * 0.711


def _text_width(text: str, size: int, look: CaptionLook) -> float:
    from vidgen.media.overlays import line_width

    em = max(1, round(size * _em_per_size()))
    return line_width(text, em) + 2 * max(1.0, size * look.outline_ratio)


def caption_break(
    words: Sequence[str], *, width: int, look: CaptionLook = CAPTION_LOOK
) -> tuple[int | None, float]:
    """Where a cue's words break into two lines (None: one line, when it fits) and the scale
    (<= 1) at which its widest line fits the caption box. Two lines break where they balance."""
    size = caption_size(width, look)
    room = width * (1 - look.left_margin - look.right_margin)
    whole = _text_width(" ".join(words), size, look)
    if len(words) < 2 or look.max_lines < 2 or whole <= room:
        return None, min(1.0, room / max(1.0, whole))

    # The most even break that keeps a name, a number and its unit, and a word with what it
    # leads to on one line ("85 / percent" read as two things); an uneven break beats a torn
    # one while both lines fit.
    def widest_at(k: int) -> float:
        return max(
            _text_width(" ".join(words[:k]), size, look),
            _text_width(" ".join(words[k:]), size, look),
        )

    widths = {k: widest_at(k) for k in range(1, len(words))}
    k = min(widths, key=lambda k: (widths[k] > room, _bound(words[k - 1], words[k]), widths[k]))
    return k, min(1.0, room / widths[k])


def caption_lines(
    words: Sequence[str], *, width: int, look: CaptionLook = CAPTION_LOOK
) -> tuple[list[str], float]:
    """A cue's words as the lines ``to_ass`` draws them, and the scale it draws them at."""
    k, scale = caption_break(words, width=width, look=look)
    if k is None:
        return [" ".join(words)], scale
    return [" ".join(words[:k]), " ".join(words[k:])], scale


def caption_fits(width: int, look: CaptionLook = CAPTION_LOOK) -> Callable[[Sequence[str]], bool]:
    """For ``build_cues``: whether a cue's words fit the caption box at full size."""

    def fits(words: Sequence[str]) -> bool:
        return caption_break(words, width=width, look=look)[1] >= 1.0

    return fits


def _ass_colour(rgb: tuple[int, int, int], alpha: int = 0) -> str:
    r, g, b = rgb
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


def _override_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"&H{b:02X}{g:02X}{r:02X}&"


def _ass_time(seconds: float) -> str:
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    secs, centis = divmod(rest, 100)
    return f"{hours:d}:{minutes:02d}:{secs:02d}.{centis:02d}"


def ass_escape(text: str) -> str:
    """Text that libass shows literally: no override blocks, no \\N-style escapes."""
    # A backslash would start an escape and braces an override block; lookalikes keep the
    # caption readable where the exact bytes live in the .srt.
    return text.replace("\\", "\u29f5").replace("{", "\u2774").replace("}", "\u2775")


def to_ass(
    cues: Sequence[Cue],
    *,
    width: int,
    height: int,
    look: CaptionLook = CAPTION_LOOK,
    font_for: Any = None,
) -> str:
    """An ASS script drawing each cue with the word being spoken in the highlight colour.

    ``font_for(text)`` may split a word into ``(font family, text)`` runs for scripts the main
    font lacks (Hebrew, Arabic, emoji); runs in another family get a ``\\fn`` override.
    """
    size = max(8, round(width * look.size_ratio))
    outline = max(1.0, size * look.outline_ratio)
    margin_l = round(width * look.left_margin)
    margin_r = round(width * look.right_margin)
    # Anchored at the top of a two-line block whose bottom sits ``bottom_margin`` above the
    # frame's bottom: the first line stays put from cue to cue, right under the pictures, and
    # a second line never reaches the platform's caption band. (libass's line is one font size.)
    block = look.max_lines * size + 2 * outline
    margin_v = max(0, round(height * (1 - look.bottom_margin) - block))
    header = (
        "[Script Info]\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {width}\n"
        f"PlayResY: {height}\n"
        "WrapStyle: 0\n"
        "ScaledBorderAndShadow: yes\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Caption,{look.font},{size},{_ass_colour(look.fill)},"
        f"{_ass_colour(look.highlight)},{_ass_colour((0, 0, 0))},{_ass_colour((0, 0, 0), 0x60)},"
        f"-1,0,0,0,100,100,0,0,1,{outline:.1f},{max(1.0, outline / 2):.1f},8,"
        f"{margin_l},{margin_r},{margin_v},1\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    highlight = _override_colour(look.highlight)
    fill = _override_colour(look.fill)

    def render(word: str) -> str:
        if font_for is None:
            return ass_escape(word)
        parts = []
        for family, run in font_for(word):
            run = ass_escape(run)
            parts.append(run if family == look.font else f"{{\\fn{family}}}{run}{{\\fn}}")
        return "".join(parts)

    lines: list[str] = []
    for cue in cues:
        rendered = [render(word.text) for word in cue.words]
        # Lines broken here, not by libass: the break balances the lines, and a word that is
        # wider than the box on its own shrinks its cue instead of running off the frame.
        split, scale = caption_break([w.text for w in cue.words], width=width, look=look)
        prefix = f"{{\\fs{max(8, math.floor(size * scale))}}}" if scale < 1.0 else ""
        for k, word in enumerate(cue.words):
            start = cue.start if k == 0 else word.start
            end = cue.end if k + 1 == len(cue.words) else cue.words[k + 1].start
            start, end = max(start, cue.start), min(end, cue.end)
            if end - start < 0.01:
                continue
            text = prefix
            for j, part in enumerate(rendered):
                if j:
                    text += "\\N" if j == split else " "
                text += f"{{\\c{highlight}}}{part}{{\\c{fill}}}" if j == k else part
            lines.append(
                f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Caption,,0,0,0,,{text}\n"
            )
    return header + "".join(lines)


# -- fonts for libass --------------------------------------------------------------------------


def font_runs(text: str) -> list[tuple[str, str]]:
    """``text`` split into (font family, run) by the first packaged font that has each
    character, the same fallback chain as the scene text (Roboto, then Noto)."""
    from vidgen.media.overlays import _font_index_for

    families = font_families()
    runs: list[tuple[str, str]] = []
    for ch in text:
        index = _font_index_for(ch)
        family = families[index] if index is not None else families[0]
        if runs and (runs[-1][0] == family or not ch.strip()):
            runs[-1] = (runs[-1][0], runs[-1][1] + ch)
        else:
            runs.append((family, ch))
    return runs


@cache
def font_families() -> tuple[str, ...]:
    """Family names of the packaged fallback chain, in order (what ASS ``Fontname`` matches)."""
    from PIL import ImageFont

    from vidgen.media.overlays import font_chain

    return tuple(str(ImageFont.truetype(str(path), 10).getname()[0]) for path in font_chain())


def font_files() -> tuple[Path, ...]:
    """The font files libass is pointed at (``fontsdir=``), so no system font is ever needed."""
    from vidgen.media.overlays import font_chain

    return font_chain()
