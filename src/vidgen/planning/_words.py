"""Words: budgets, sentences, figures, facts and how a product is said."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vidgen.analysis import topic_stem
from vidgen.planning._plan import (
    _NON_TAG_CHARS,
    _STOPWORDS,
    _WORD,
    MAX_HASHTAGS,
    MAX_HEADLINE_CHARS,
    MAX_ON_SCREEN_CHARS,
    SPEECH_FILL,
)

# --------------------------------------------------------------------------------------------
# Helpers shared by both planners


def words_per_second(rate_wpm: int) -> float:
    return rate_wpm / 60.0 * SPEECH_FILL


def word_budget(duration_seconds: float, rate_wpm: int) -> int:
    """How many words fit in ``duration_seconds`` at ``rate_wpm`` with room for pauses."""
    # The epsilon keeps 7.0 words from flooring to 6 through float rounding.
    return max(1, math.floor(duration_seconds * words_per_second(rate_wpm) + 1e-6))


def count_words(text: str) -> int:
    """Words as they are *spoken*: a number is said as several ("241" is "two hundred forty
    one", "1.4" is "one point four"), which a count of written words would miss."""
    total = 0
    for token in text.split():
        digits = re.sub(r"\D", "", token)
        if len(digits) <= 1 or (len(digits) == 2 and digits.endswith("0")):
            total += 1
        elif "." in token.strip(".") or len(digits) == 2:
            total += 3 if "." in token.strip(".") else 2
        else:
            total += 4
    return total


def fit_words(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` spoken words (``count_words``), ending on a whole
    word and a full stop."""
    words = text.split()
    if count_words(text) <= budget:
        return text.strip()
    kept: list[str] = []
    for word in words:
        if kept and count_words(" ".join([*kept, word])) > budget:
            break
        kept.append(word)
    # A cut that ends on "and"/"the" sounds broken when spoken; drop such dangling words.
    while len(kept) > 1 and kept[-1].strip(",;:-").lower() in _STOPWORDS:
        kept.pop()
    return " ".join(kept).rstrip(",;:-—").rstrip(".!?") + "."


def hashtag(text: str) -> str | None:
    """``"Product Demo"`` -> ``"#productdemo"``; None if nothing taggable is left."""
    body = _NON_TAG_CHARS.sub("", text.strip().lstrip("#")).lower()
    return f"#{body}" if body else None


def normalize_hashtags(tags: Iterable[str], limit: int = MAX_HASHTAGS) -> list[str]:
    """'#'-prefixed, cleaned, deduplicated case-insensitively (first wins), at most ``limit``."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        if not isinstance(raw, str):
            continue
        tag = hashtag(raw)
        if tag is None or tag in seen or len(tag) > 60:
            continue
        seen.add(tag)
        out.append(tag)
        if len(out) == limit:
            break
    return out


def split_durations(total: float, weights: Sequence[float]) -> list[float]:
    """Split ``total`` seconds in proportion to ``weights``; the parts add up to ``total``.

    Parts are whole milliseconds (largest-remainder rounding), except the last, which takes
    whatever is left so the float sum matches ``total`` itself.
    """
    if not weights or any(w <= 0 or not math.isfinite(w) for w in weights):
        raise ValueError("weights must be positive numbers")
    total_ms = round(total * 1000)
    scale = total_ms / math.fsum(weights)
    raw = [w * scale for w in weights]
    parts = [math.floor(x) for x in raw]
    short = total_ms - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:short]:
        parts[i] += 1
    seconds = [p / 1000 for p in parts[:-1]]
    # Rounded so the JSON shows 3.256, not 3.2560000000000002; the error stays far below tolerance.
    seconds.append(round(total - math.fsum(seconds), 7))
    if seconds[-1] <= 0:
        raise ValueError(f"cannot split {total:g} s into {len(weights)} scenes")
    return seconds


def allot_seconds(total: float, needs: Sequence[float]) -> list[float]:
    """Scene lengths for speech needing ``needs`` seconds each, adding up to ``total``.

    Every scene gets at least half the average length, so its on-screen text stays up long enough
    to read. If everything fits, the spare time is shared in proportion to need; if not, the time
    above the floor goes to the scenes in proportion to how much more than the floor they need
    (and their narration is then cut to fit).
    """
    floor = total / len(needs) * 0.5
    wanted = [max(need, floor) for need in needs]
    if math.fsum(wanted) <= total:
        spare = total - math.fsum(wanted)
        need_sum = math.fsum(needs)
        if need_sum <= 0:
            return [total / len(needs)] * len(needs)
        return [w + spare * need / need_sum for w, need in zip(wanted, needs, strict=True)]
    excess = [w - floor for w in wanted]
    room = total - floor * len(needs)
    excess_sum = math.fsum(excess)
    return [floor + room * e / excess_sum for e in excess]


def _keywords(*texts: str, extra: Iterable[str] = (), limit: int = 6) -> list[str]:
    out: list[str] = []
    for word in [*extra, *(w.lower() for t in texts for w in _WORD.findall(t))]:
        word = word.strip("'-").lower()
        if len(word) > 2 and word not in _STOPWORDS and word not in out:
            out.append(word)
        if len(out) == limit:
            break
    return out


def _short_text(text: str, limit: int = MAX_ON_SCREEN_CHARS) -> str:
    """A caption for the screen: the first clause, cut on a word boundary."""
    text = " ".join(text.split()).rstrip(".!")
    # A clause ends at punctuation followed by a space: "10:30" and "C:\\x" are not clauses.
    first = re.split(r"[,;:](?=\s)| - | — ", text, maxsplit=1)[0].strip()
    if len(first) >= 12:
        text = first
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return (cut or text[: limit - 1]) + "…"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


# --------------------------------------------------------------------------------------------
# Words: facts, sentences, numbers

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "hundred": "100",
    "half": "0.5",
}
_COUNT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ORDINAL_WORDS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth")
_SPOKEN_NUMBERS = ("one", "two", "three", "four", "five", "six")
# Words that never name a picture on their own.
_NOT_PICTURED = frozenset(
    re.findall(
        r"\w+",
        "minute minutes second seconds hour hours time times way ways day days week weeks "
        "mode modes thing things half litre litres liter liters gram grams kilo kilos metre "
        "metres mile miles percent lot lots kind part parts side sides deep new old fast slow "
        "quick easy warm cool hot cold light less more most best better good great first next "
        "any every each own also even still only well just really pair pairs use using used "
        "make makes made keep keeps kept fit fits let lets take takes feel feels need needs "
        "people views view video videos idea ideas creator creators story stories tips tip "
        "top step steps guide week's everyday ever never always nobody per full flat size "
        "background more few above below see how after before during per into onto fix stronger "
        "faster bigger smaller lighter not riper sweeter "
        # Verbs a tip starts with ("In Kyoto, climb ..."): what it is about comes after.
        "rent climb order walk cross ride skip find go put hold move cut screw sand wear toss "
        "press cook pour marinate download list split cancel switch arrive plan try do start "
        "add stop turn tell buy bring pack book visit eat drink check set save spend wait "
        "reward layer dimple salt real dead then without instead thin enough about whole ready "
        "while like sounds stays stay",
    )
)
_DETERMINERS = frozenset(
    re.findall(
        r"\w+",
        "a an the any your my our their his her its this that these those half one two three "
        "four five six seven eight nine ten up to",
    )
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FIGURE = re.compile(
    r"\b(\d+(?:[.,]\d+)?|half an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    r"twenty|thirty)\s+(?:(?:hour|minute|second|day|week|month|year|litre|liter|gram|kilo|"
    r"metre|meter|mile|percent|degree|step|mode|colour|color|setting|hour)s?|[a-z]+)\b",
    re.IGNORECASE,
)
_FIGURE_UNITS = frozenset(
    re.findall(
        r"\w+",
        "hour minute second day week month year litre liter gram kilo metre meter mile km kg "
        "percent degree step mode colour color setting charge cup cups battery ml mm cm",
    )
)


def _stems(text: str) -> set[str]:
    """A sentence's content words, stemmed, with number words as digits: what two sentences
    are compared by when asking "do they say the same thing?"."""
    out: set[str] = set()
    for word in re.findall(r"[A-Za-z]+|\d+(?:\.\d+)?", text.lower()):
        word = _NUMBER_WORDS.get(word, word)
        if word.replace(".", "").isdigit():
            out.add(word)
            continue
        stem = topic_stem(word)
        if len(stem) >= 3 and stem not in _STOPWORDS:
            out.add(stem)
    return out


def fact_clause(text: str) -> str:
    """A talking point without what it means to the viewer: "Cuts noise by 30 decibels, so a
    train sounds like a library" -> "Cuts noise by 30 decibels". The whole point is said in a
    fact's own sentence; a question hook or a title has room only for the claim."""
    clause = " ".join(text.split()).split(", ", 1)[0]
    return clause.rstrip(".!?;:, ") if len(clause.split()) >= 3 else text


_SO_CLAUSE = re.compile(r",\s+so\s+(?P<benefit>[^,;:]+?)[.!?]?$")
_WANT_DETERMINERS = frozenset(("your", "a", "an", "the", "every", "each", "any"))


def want_question(point: str) -> str | None:
    """What a talking point means to the viewer, asked as the problem it solves: "Returns 85
    percent of your energy, so your legs stay fresh for the last mile" -> "Want your legs to
    stay fresh for the last mile?". None when the point has no "so ..." clause about a thing
    (not "so it never stays home": "Want it to ..." names nothing)."""
    match = _SO_CLAUSE.search(" ".join(point.split()))
    if match is None:
        return None
    words = match["benefit"].split()
    if len(words) < 4 or words[0].lower() not in _WANT_DETERMINERS:
        return None
    for i in range(2, min(5, len(words) - 1)):
        word, before = words[i].lower(), words[i - 1].lower()
        if not word.isalpha() or word in _DETERMINERS:
            return None
        if _looks_like_verb(word) and not before.endswith("s"):
            verb = _base_verb(word)  # "a busy train sounds" -> "to sound"
        elif before.endswith("s") and not word.endswith("s") and word not in _NOT_VERB_AFTER:
            verb = word  # "your legs stay" -> "to stay"
        else:
            continue
        subject = " ".join([words[0].lower(), *words[1:i]])
        return f"Want {subject} to {verb} {' '.join(words[i + 1 :])}?"
    return None


_NOT_VERB_AFTER = frozenset(("and", "or", "of", "in", "on", "at", "for", "with", "to", "by"))


def same_fact(a: str, b: str) -> bool:
    """Two sentences say the same thing: most of the shorter one's content words (numbers
    included) are in the other ("boils water in three minutes" / "boils half a litre in
    three minutes")."""
    left, right = _stems(a), _stems(b)
    if not left or not right:
        return False
    shared = left & right
    return len(shared) >= 2 and len(shared) / min(len(left), len(right)) >= 0.6


def only_figure(text: str) -> str | None:
    """``figure_of(text)`` when it is the only number the text says: one figure held on screen
    over "a 30 second plank, 10 dead bugs and 15 glute bridges" was the wrong number for most
    of the sentence."""
    said = re.findall(r"\d+(?:\.\d+)?|[A-Za-z]+", text)
    numbers = [w for w in said if w[0].isdigit() or w.lower() in _NUMBER_WORDS]
    return figure_of(text) if len(numbers) == 1 else None


def figure_of(text: str) -> str | None:
    """The number a sentence states, as a headline: "boils half a litre in three minutes" ->
    "3 minutes" (units of time and measure before others); None when there is none."""
    found: list[tuple[int, str]] = []
    for match in _FIGURE.finditer(text):
        number, unit = match.group(1).lower(), match.group(0).split()[-1].lower()
        if number.startswith("half"):
            continue
        digits = _NUMBER_WORDS.get(number, number)
        rank = 0 if topic_stem(unit) in _FIGURE_UNITS else 1
        if unit in _STOPWORDS or len(unit) < 2:
            continue
        if rank == 0 and digits != "1" and not unit.endswith("s") and unit not in _NO_PLURAL:
            unit += "s"  # "ten minute charge" -> "10 minutes"
        found.append((rank, f"{digits} {unit}"))
    if not found:
        return None
    figure = min(found, key=lambda pair: pair[0])[1]
    number, _, unit = figure.partition(" ")
    short = _UNIT_SYMBOLS.get(unit.lower())
    if short is not None:
        # A stat, as a spec sheet writes it ("30 dB", "85%"): the screen shows the number
        # while the caption carries the words, so the two never read as one sentence twice.
        figure = f"{number}{short}" if short in ("%", "°") else f"{number} {short}"
    return figure if len(figure) <= MAX_HEADLINE_CHARS else None


def written_figures(text: str) -> str:
    """``text`` with its figures as a spec sheet writes them, for a cover read at a glance:
    "Folds flat to two centimeters" -> "Folds flat to 2 cm", "Return 85 percent of your
    energy" -> "Return 85% of your energy". Only numbers with a unit of measure change."""

    def written(match: re.Match[str]) -> str:
        number, unit = match.group(1).lower(), match.group(0).split()[-1]
        if number.startswith("half"):
            return match.group(0)
        short = _UNIT_SYMBOLS.get(unit.lower())
        if short is None:
            return match.group(0)
        digits = _NUMBER_WORDS.get(number, match.group(1))
        return f"{digits}{short}" if short in ("%", "°") else f"{digits} {short}"

    return _FIGURE.sub(written, text)


_UNIT_SYMBOLS = {
    "percent": "%",
    "decibels": "dB",
    "decibel": "dB",
    "kilometers": "km",
    "kilometres": "km",
    "kilometer": "km",
    "meters": "m",
    "metres": "m",
    "centimeters": "cm",
    "centimetres": "cm",
    "millimeters": "mm",
    "grams": "g",
    "gram": "g",
    "kilograms": "kg",
    "kilos": "kg",
    "liters": "L",
    "litres": "L",
    "milliliters": "ml",
    "minutes": "min",
    "minute": "min",
    "seconds": "sec",
    "second": "sec",
    "hours": "hrs",
    "hour": "hr",
    "degrees": "°",
}


_NO_PLURAL = frozenset(("km", "kg", "percent", "ml", "mm", "cm"))


def natural_case(theme: str) -> str:
    """A theme as it reads mid-sentence: "Home Workout" -> "home workout"; names, acronyms and
    brand-style words ("Bali", "DIY", "iPhone") keep their case when they are not plain title
    case of a common word."""
    words = theme.split()
    out: list[str] = []
    for word in words:
        plain = word[:1].isupper() and word[1:].islower()
        out.append(word.lower() if plain and word.lower() not in _PROPER else word)
    return " ".join(out)


# Places and days a theme may name; they keep their capital mid-sentence.
_PROPER = frozenset(
    re.findall(
        r"\w+",
        "monday tuesday wednesday thursday friday saturday sunday january february march april "
        "june july august september october november december christmas easter halloween "
        "bali lisbon seoul kyoto paris london tokyo istanbul marrakech vancouver reykjavik "
        "copenhagen york america europe asia africa english french spanish italian japanese",
    )
)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _looks_like_verb(word: str) -> bool:
    """A talking point that starts with a present-tense verb ("Folds flat...", "Charges your
    phone..."): it is said about the product ("It folds flat...")."""
    w = word.lower()
    if w in ("has", "does", "goes"):
        return True  # short, and irregular after "they": "They have a reflective heel"
    return (
        len(w) > 3
        and w.isalpha()
        and w.endswith("s")
        and not w.endswith(("ss", "us", "is", "ous", "ics", "ness"))
        and w not in _NOT_VERBS
    )


_NOT_VERBS = frozenset(
    re.findall(
        r"\w+",
        "glasses shoes headphones earbuds lens pants jeans clothes sunglasses boots socks "
        "leggings shorts tools plants beans leaves lights colours colors settings modes "
        "minutes hours days weeks years steps views",
    )
)


def _base_verb(word: str) -> str:
    """ "folds" -> "fold", "carries" -> "carry", "washes" -> "wash": the verb after "they"."""
    w = word.lower()
    if w == "has":
        return "have"
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return w[:-2]
    return w[:-1] if w.endswith("s") else w


@dataclass(frozen=True)
class Product:
    """How a reference is said and shown: its full name, a short name for later mentions
    ("PocketBrew"), what kind of thing it is ("travel kettle"), and whether it is plural."""

    title: str
    short: str
    kind: str
    noun: str  # the one picturable word: "kettle", "shoes"
    plural: bool

    @classmethod
    def of(cls, title: str, tags: Sequence[str] = ()) -> Product:
        words = title.split()
        brand = words[0] if len(words) > 1 and _is_brand(words[0]) else ""
        rest = words[1:] if brand else words
        kind = " ".join(w if not (w[:1].isupper() and w[1:].islower()) else w.lower() for w in rest)
        noun = (rest[-1] if rest else title).lower()
        plural = noun.endswith("s") and not noun.endswith("ss")
        short = f"the {brand}" if brand else f"the {kind}"
        return cls(title=title, short=short, kind=kind or title, noun=noun, plural=plural)

    def said(self, sentence_start: bool = False) -> str:
        """How a later sentence refers to it: "It"/"They" after the name has been said."""
        pronoun = "they" if self.plural else "it"
        return _capital(pronoun) if sentence_start else pronoun


def _is_brand(word: str) -> bool:
    """A made-up product name: inner capitals ("PocketBrew") or letters and digits mixed."""
    inner_caps = any(ch.isupper() for ch in word[1:])
    return inner_caps or (any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word))


def _fact_sentence(
    point: str, product: Product, named: bool, described: frozenset[str] = frozenset()
) -> str:
    """A talking point as a sentence said about the product: "Folds flat to fit any backpack"
    -> "It folds flat to fit any backpack." (or "The PocketBrew folds ..." when the name has
    not been said yet in this scene)."""
    text = " ".join(point.split()).rstrip(".!;:,")
    first, _, rest = text.partition(" ")
    if _looks_like_verb(first):
        verb = _base_verb(first) if product.plural and named else first.lower()
        who = product.said(True) if named else _capital(product.short)
        if product.plural and not named:
            verb = first.lower()  # "The StrideLite grips ..." (the brand is singular)
        elif product.plural:
            rest = re.sub(r"\bits\b", "their", rest)  # "They keep their cushioning"
        return f"{who} {verb} {rest}".strip() + "."
    if first.lower() in ("a", "an"):
        return f"{'They are' if product.plural else 'It is'} {first.lower()} {rest}."
    phrase = _noun_phrase(text) if point in described else None
    if phrase:  # the description's "Over-ear headphones that ..." says what the product is
        return f"{'They are' if product.plural else 'It is'} {phrase}."
    return _capital(text) + "."


# Verbs that state a property, not a benefit: a weak question to open on.
_PROPERTY_VERBS = frozenset(("weigh", "cost", "measure", "come", "include", "have"))

# Verbs a viewer does with a product: a talking point led by one can be a how-to step.
_ACTIONS = frozenset(
    re.findall(
        r"\w+",
        "fold unfold boil fill pour brew make charge pair plug press tap clip pack open close "
        "twist rinse wash set switch turn attach connect lace tie wear put place slide pull push "
        "mount stick water plant cut mix bake knead stretch shape score",
    )
)


def _imperative(point: str, plural: bool = False) -> str | None:
    """A verb-led talking point as a step: "Folds flat to fit any backpack" -> "Fold it flat
    to fit any backpack" ("them" for a ``plural`` product); None when the point does not
    start with a verb, or its verb already has an object ("Cuts background noise")."""
    text = " ".join(point.split()).rstrip(".!;:,")
    first, _, rest = text.partition(" ")
    if not _looks_like_verb(first) or _base_verb(first) not in _ACTIONS:
        return None  # "Weighs 210 grams" is a property, not something to do
    # "... and fits any backpack": the second verb is the product's, not the viewer's.
    rest = re.sub(r"\band (\w+s)\b", lambda m: f"and it {m.group(1)}", rest, count=1)
    next_word = rest.split(" ", 1)[0].lower() if rest else ""
    if next_word in _PARTICLES or not next_word:
        obj = " them" if plural else " it"  # "Fold it flat", "Connect them to your phone"
    elif next_word in _DETERMINERS or next_word[:1].isdigit():
        obj = ""  # "Fill the kettle", "Boil half a liter"
    else:
        return None  # "Cuts background noise": what the product does, not "Cut it background"
    return _capital(_base_verb(first)) + obj + (f" {rest}" if rest else "")


# What may follow a verb whose object is the product: "folds flat", "connects to your phone".
_PARTICLES = frozenset(
    re.findall(
        r"\w+",
        "flat into in on onto to up down away off open shut with under over back together apart "
        "round around out from inside",
    )
)


def _noun_phrase(description: str) -> str | None:
    """ "A folding silicone kettle that boils water in three minutes." -> "a folding ..."
    (the description's first sentence as an appositive); None when it is not a noun phrase
    (it starts with a verb or a pronoun)."""
    first = _SENTENCE_END.split(description.strip())[0].strip().rstrip(".!")
    head = first.split(" ", 1)[0] if first else ""
    if not head or _looks_like_verb(head) or head.lower() in _PRONOUNS or _is_brand(head):
        return None
    if head[:1].isupper() and (len(head) == 1 or head[1:].islower() or "-" in head):
        head = head.lower()
    return head + first[len(head) :]


_PRONOUNS = frozenset(("it", "this", "we", "our", "they", "you", "i", "these", "its", "my"))


def scene_subjects(
    sentence: str, lead: Sequence[str] = (), limit: int = 3, *, first: bool = False
) -> list[str]:
    """1-3 concrete nouns a sentence names, for its pictures: ``lead`` first (the subject's own
    noun when the sentence is about it), then the sentence's other plain content words."""
    out: list[str] = [w for w in lead if w][:limit]
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", sentence)
    for i, word in enumerate(words):
        w = word.lower().strip("'-")
        if (i == 0 and not first) or len(out) >= limit:
            continue  # the first word is a verb or a pronoun far more often than a noun
        if (
            len(w) < 3
            or w in _STOPWORDS
            or w in _NOT_PICTURED
            or w in _DETERMINERS
            or w.endswith(("ly", "ed"))
            or _looks_like_verb(w)
        ):
            continue
        stem = topic_stem(w)
        if all(topic_stem(o) != stem for o in out):
            out.append(w)
    return out[:limit]
