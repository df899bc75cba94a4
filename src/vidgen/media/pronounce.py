"""What the voice says for what the script writes: brand names, prices, units, abbreviations.

The script is what viewers read (captions, the plan); the voice is given a respelled copy of it.
``respell(script, table)`` returns that copy *and* the explicit map between the two: every
replaced word knows the script characters it stands for, and every character the respelling
left alone keeps its place, shifted. Word timings the voice reports as slices of the spoken
text are mapped back through it (``Respelling.to_script``), so captions keep the script's own
spelling ("FocusFlow", "$49") with the time of the words that were really spoken for it
("focus flow", "49 dollars"); nothing is matched by similarity.

What gets replaced, first match wins at a position:

1. the config's ``pronunciations`` (``{FocusFlow: "focus flow"}``): whole words or phrases,
   any letter case;
2. the built-in rules below (``WORDS``, ``UNITS``, prices, "3-in-1", "2x", "24/7"), for
   English voices only (the espeak-ng phonemiser Piper uses reads "$49" as "dollar forty
   nine", "5 km" as "five K M", "24/7" as "twenty four slash seven");
3. CamelCase names split into their words ("PocketBrew" -> "Pocket Brew"), for any language,
   so every voice engine says the parts and a transcript shows them as words.

Everything here is pure: strings in, strings and offsets out.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

# Abbreviations and symbols a voice misreads, as whole words, matched with this exact case
# ("US" the country is not "us"). Modest on purpose: what short product videos write.
WORDS: dict[str, str] = {
    "&": "and",
    "w/": "with",
    "vs": "versus",
    "vs.": "versus",
    "approx.": "approximately",
    "DIY": "D I Y",
    "FAQ": "F A Q",
    "USB-C": "U S B C",
    "Wi-Fi": "wifi",
    "WiFi": "wifi",
    "ASMR": "A S M R",
    "GRWM": "get ready with me",
    "POV": "P O V",
    "OOTD": "outfit of the day",
    "TBH": "to be honest",
}

# Units after a number ("5 km", "5km", "500ml"): singular after exactly 1.
UNITS: dict[str, tuple[str, str]] = {
    "km": ("kilometer", "kilometers"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "mi": ("mile", "miles"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "L": ("liter", "liters"),
    "l": ("liter", "liters"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "Wh": ("watt hour", "watt hours"),
    "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"),
    "V": ("volt", "volts"),
    "Hz": ("hertz", "hertz"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "MB": ("megabyte", "megabytes"),
    "fps": ("frame per second", "frames per second"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
}

CURRENCIES: dict[str, tuple[str, str]] = {
    "$": ("dollar", "dollars"),
    "€": ("euro", "euros"),
    "£": ("pound", "pounds"),
}

_NUMBER = r"\d+(?:[.,]\d+)*"
_EDGE_BEFORE = r"(?<![\w$€£])"
_EDGE_AFTER = r"(?![\w/])"


def _alternation(keys: list[str]) -> str:
    return "|".join(re.escape(key) for key in sorted(keys, key=len, reverse=True))


# One-letter units only written onto their number ("500g", "1.5L", "65W"): "top 3 V..." is
# more likely a word than volts.
_SHORT_UNITS = [unit for unit in UNITS if len(unit.lstrip("°")) == 1]
_UNIT_RE = re.compile(
    rf"{_EDGE_BEFORE}(?P<number>{_NUMBER})"
    rf"(?: ?(?P<unit>{_alternation([u for u in UNITS if u not in _SHORT_UNITS])})"
    rf"|(?P<short>{_alternation(_SHORT_UNITS)})){_EDGE_AFTER}"
)
_PRICE_RE = re.compile(
    r"(?<!\w)(?P<symbol>[$€£])(?P<whole>\d+(?:,\d{3})*)(?:\.(?P<cents>\d\d))?"
    r"(?P<scale>[kKmM]\b)?(?![\d.,]\d)"
)
_TIMES_RE = re.compile(rf"{_EDGE_BEFORE}(?P<number>{_NUMBER})[x\u00d7](?=\s|$|[,.!?;:])")
_IN_ONE_RE = re.compile(rf"{_EDGE_BEFORE}(?P<a>\d+)-in-(?P<b>\d+)(?!\w)")
_ROUND_CLOCK_RE = re.compile(rf"{_EDGE_BEFORE}24/7(?!\w)")
_WORDS_RE = re.compile(rf"(?<![\w&/]){_alternation(list(WORDS))}(?![\w&/])")
# A capitalised word part followed by another ("Focus|Flow", "Pocket|Brew", "HTML|Parser"):
# split where a lower-case letter meets an upper-case one, or an acronym meets a word.
_CAMEL_WORD_RE = re.compile(r"(?<![\w'])[A-Z][a-z]+(?:[A-Z][a-z]+|[A-Z]{2,}(?![a-z]))+(?!\w)")
_CAMEL_PARTS_RE = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z][a-z]+")
# "McDonald", "LeBron", "GoPro" stay one word: a two-letter part is a prefix, not a word of its
# own (an acronym part such as the "AI" of "OpenAI" is spelled out by the voice anyway).
_MIN_PART = 3


@dataclass(frozen=True)
class Piece:
    """One replacement: ``written`` characters of the script are spoken as ``spoken``
    characters of the respelled text (both end-exclusive)."""

    written: tuple[int, int]
    spoken: tuple[int, int]


@dataclass(frozen=True)
class Respelling:
    """The script, what the voice is given instead (``text``) and the replacements between
    them, in order. Outside the pieces both texts are the same characters."""

    script: str
    text: str
    pieces: tuple[Piece, ...]

    @property
    def changed(self) -> bool:
        return bool(self.pieces)

    def to_script(self, first: int, last: int) -> tuple[int, int]:
        """The script characters a slice ``text[first:last]`` of the spoken text stands for:
        a slice touching a replacement covers the whole replaced script word."""
        return self._written(first, start=True), self._written(last, start=False)

    def _written(self, position: int, *, start: bool) -> int:
        # The last piece beginning at or before the character at ``position`` (a start) or
        # before ``position`` (an end, which is exclusive).
        starts = [piece.spoken[0] for piece in self.pieces]
        index = bisect_right(starts, position if start else position - 1) - 1
        if index < 0:
            return position  # before every piece: the same characters
        piece = self.pieces[index]
        if start and position < piece.spoken[1]:
            return piece.written[0]
        if not start and position <= piece.spoken[1]:
            return piece.written[1]
        # After that piece: the same characters, shifted by what the pieces so far changed.
        return position - piece.spoken[1] + piece.written[1]


def _number_words(number: str) -> str:
    """A number as the voice should read it: thousands separators dropped ("1,500" -> 1500)."""
    return number.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number) else number


def _plural(number: str, forms: tuple[str, str]) -> str:
    return forms[0] if number in ("1", "1.0") else forms[1]


def _builtin(script: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for match in _PRICE_RE.finditer(script):
        symbol, cents, scale = match["symbol"], match["cents"], match["scale"]
        amount = _number_words(match["whole"])
        size = {"k": " thousand", "m": " million"}.get((scale or "").lower(), "")
        name = _plural(amount if not size else "2", CURRENCIES[symbol])
        # "$49.99" is said "49 dollars 99", the way people read prices, not "point nine nine".
        spoken = f"{amount}{size} {name}" + (f" {cents}" if cents and cents != "00" else "")
        found.append((match.start(), match.end(), spoken))
    for match in _UNIT_RE.finditer(script):
        number = _number_words(match["number"])
        unit = UNITS[match["unit"] or match["short"]]
        found.append((match.start(), match.end(), f"{number} {_plural(number, unit)}"))
    for match in _TIMES_RE.finditer(script):
        found.append((match.start(), match.end(), f"{_number_words(match['number'])} times"))
    for match in _IN_ONE_RE.finditer(script):
        found.append((match.start(), match.end(), f"{match['a']} in {match['b']}"))
    for match in _ROUND_CLOCK_RE.finditer(script):
        found.append((match.start(), match.end(), "twenty four seven"))
    for match in _WORDS_RE.finditer(script):
        found.append((match.start(), match.end(), WORDS[match.group()]))
    return found


def _camel_case(script: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for match in _CAMEL_WORD_RE.finditer(script):
        parts = _CAMEL_PARTS_RE.findall(match.group())
        if len(parts) > 1 and all(len(p) >= _MIN_PART or p.isupper() for p in parts):
            found.append((match.start(), match.end(), " ".join(parts)))
    return found


def _configured(script: str, table: Mapping[str, str]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for written in sorted(table, key=len, reverse=True):
        if not written.strip():
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(written.strip())}(?!\w)", re.IGNORECASE)
        found += [(m.start(), m.end(), table[written].strip()) for m in pattern.finditer(script)]
    return found


def _word_by_word(script: str, first: int, last: int, spoken: str) -> list[tuple[int, int, str]]:
    """A replacement of several written words by as many spoken ones ("5 km" -> "5
    kilometers", "Desk Lamp" -> "desk light") pairs them up, so that each caption word gets the
    time of its own spoken word; otherwise the whole replacement is one piece."""
    written = list(re.finditer(r"\S+", script[first:last]))
    said = spoken.split()
    if len(written) < 2 or len(written) != len(said):
        return [(first, last, spoken)]
    return [
        (first + w.start(), first + w.end(), s)
        for w, s in zip(written, said, strict=True)
        if w.group() != s
    ]


def respell(
    script: str, table: Mapping[str, str] | None = None, *, language: str = "en"
) -> Respelling:
    """What the voice should say for ``script``: the config ``table`` first, then (English
    only) the built-in rules, then CamelCase names split; overlapping matches keep the first
    rule's (and, within a rule, the earliest and longest) match."""
    candidates: list[list[tuple[int, int, str]]] = [_configured(script, table or {})]
    if language.lower().startswith("en"):
        candidates.append(_builtin(script))
    candidates.append(_camel_case(script))
    chosen: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for rule in candidates:
        for first, last, spoken in sorted(rule, key=lambda m: (m[0], -(m[1] - m[0]))):
            if not spoken or any(first < b and a < last for a, b in taken):
                continue
            if spoken == script[first:last]:
                continue
            chosen.append((first, last, spoken))
            taken.append((first, last))
    chosen = sorted(split for match in chosen for split in _word_by_word(script, *match))
    parts: list[str] = []
    pieces: list[Piece] = []
    cursor = length = 0
    for first, last, spoken in chosen:
        parts.append(script[cursor:first])
        length += first - cursor
        parts.append(spoken)
        pieces.append(Piece((first, last), (length, length + len(spoken))))
        length += len(spoken)
        cursor = last
    parts.append(script[cursor:])
    return Respelling(script=script, text="".join(parts), pieces=tuple(pieces))
