"""Topics: the trends and hashtags related to what one video is about."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from vidgen.analysis._scoring import (
    GENERIC_HASHTAGS,
    ScoredTrend,
    TopVideo,
    TrendLike,
    engagement_velocity,
    score,
)

# -- topics: the trends and hashtags related to what one video is about -------------------------

_TOPIC_WORD = re.compile(r"[^\W_]+")
_TOPIC_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by for from has have how i in into is it its my of on or so "
        "than that the their this to was were will with you your our we us can one every while "
        "any all more just get got here there what when why who which not no new best top day "
        "days time week video videos things thing way ways really actually very",
    )
)


def topic_stem(word: str) -> str:
    """A crude English stem, enough to match "lamps" with "lamp" and "routines" with "routine"."""
    word = word.lower()
    for suffix in ("ies", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def topic_keywords(*texts: str) -> list[str]:
    """Stems of the words that say what a text is about (no stopwords, 3+ letters, no digits)."""
    out: list[str] = []
    for text in texts:
        for word in _TOPIC_WORD.findall(text):
            stem = topic_stem(word)
            keep = len(stem) >= 3 and not stem.isdigit() and stem not in _TOPIC_STOPWORDS
            if keep and stem not in out:
                out.append(stem)
    return out


def topic_phrases(texts: Sequence[str], *, with_words: bool) -> list[str]:
    """Keywords for a topic: each text's word stems, and a multi-word text run together as
    hashtags write it ("desk setup" -> "desksetup"). ``with_words=False`` keeps only the joined
    form of multi-word texts, whose single words are often too general ("work from home")."""
    out: list[str] = []
    for text in texts:
        every = [w.lower() for w in _TOPIC_WORD.findall(text)]
        words = topic_keywords(text)
        joined = ["".join(every)] if len(every) > 1 else []
        candidates = [*joined, *words] if with_words or not joined else joined
        out += [c for c in candidates if c not in out]
    return out


def topic_match(trend: TrendLike, keywords: Sequence[str], *, described: bool = False) -> int:
    """How strongly a trend relates to ``keywords`` (0 = unrelated).

    A keyword among the title's words scores 2, a hashtag that is the keyword (or contains a
    keyword of 6+ letters: "skincareroutine" has "routine") scores 1. Short keywords must match
    whole hashtags, so "work" does not find #workout. With ``described``, a keyword in the
    creator's description scores 2 as well: "at home" under a core routine says what it is
    about better than a #homeworkout tag put on a standing-desk review.
    """
    title = set(topic_keywords(trend.title))
    if described:
        title |= set(topic_keywords(trend.description or ""))
    tags = [tag.lower().lstrip("#") for tag in trend.hashtags]
    tags = [tag for tag in tags if tag and tag not in GENERIC_HASHTAGS]
    hits = 0
    for keyword in keywords:
        if keyword in title:
            hits += 2
        if any(_tag_has(tag, keyword) for tag in tags):
            hits += 1
    return hits


def _word_in_tag(tag: str, word: str) -> bool:
    """A tag carries a word when it is the word, or starts or ends with one of 4+ letters
    ("travelgram" has "travel", "homeworkout" has "workout"); never a short word buried inside
    ("workout" does not carry "work")."""
    if tag == word or topic_stem(tag) == word:
        return True
    return len(word) >= 4 and (tag.startswith(word) or topic_stem(tag).endswith(word))


def is_about(trend: TrendLike, theme: str) -> bool:
    """Whether a trend is really about ``theme``: every one of the theme's words is in its
    title, its description or its hashtags, or a hashtag is the whole theme run together
    (#homeworkout).

    One shared word is not enough: "Home Workout" is not about a video tagged #home alone.
    """
    words = topic_keywords(theme)
    if not words:
        return False
    # What the creator says the video is about counts like its title ("a workout at home").
    title = set(topic_keywords(trend.title, trend.description or ""))
    tags = [t.lower().lstrip("#") for t in trend.hashtags]
    tags = [t for t in tags if t and t not in GENERIC_HASHTAGS]
    joined = "".join(w.lower() for w in _TOPIC_WORD.findall(theme))
    if len(words) > 1 and any(joined in tag for tag in tags):
        return True
    return all(word in title or any(_word_in_tag(tag, word) for tag in tags) for word in words)


def _tag_has(tag: str, keyword: str) -> bool:
    return tag == keyword or topic_stem(tag) == keyword or (len(keyword) >= 6 and keyword in tag)


def _title_key(title: str) -> frozenset[str]:
    return frozenset(topic_keywords(title))


class TopicTrends(BaseModel):
    """What is trending about one topic (a theme or a content reference)."""

    topic: str
    keywords: list[str]
    hashtags: list[str] = Field(description="hashtags matching the topic or co-occurring with it")
    trends: list[TopVideo] = Field(description="related trends, most related and fastest first")


def topic_trends(
    name: str,
    keywords: Sequence[str],
    trends: Sequence[TrendLike],
    now: datetime,
    n: int = 5,
    hashtag_n: int = 6,
    *,
    described: bool = False,
) -> TopicTrends:
    """The trends related to ``keywords`` and the hashtags they use, never the global list.

    Trends are related when their title or hashtags carry a keyword (``topic_match``). The
    trends listed are those whose *title* carries one (they are quoted in scripts), ranked by
    match strength, then velocity, with near-duplicate titles ("Morning run through Lisbon" /
    "... Seoul") shown once. Hashtags: those that contain a keyword
    first, then those used on the related trends, by the velocity of those trends; generic reach
    tags (#fyp, #viral) never count.
    """
    keywords = [k for k in keywords if k]
    related = (
        [(topic_match(t, keywords, described=described), t) for t in trends] if keywords else []
    )
    related = [(hits, t) for hits, t in related if hits > 0]
    scored = sorted(
        ((hits, score(t, now)) for hits, t in related),
        key=lambda pair: (-pair[0], -pair[1].velocity, -pair[1].views, pair[1].external_id),
    )
    # Titles that say the topic first; trends related only by a hashtag fill up a short list.
    said = (
        (lambda item: f"{item.title} {item.description}")
        if described
        else (lambda item: item.title)
    )
    in_title = [item for _, item in scored if _title_key(said(item)) & set(keywords)]
    shown: list[ScoredTrend] = []
    keys: list[frozenset[str]] = []
    for item in [*in_title, *(item for _, item in scored if item not in in_title)]:
        if len(shown) == n or (not described and item not in in_title and len(shown) >= 3):
            # Related only by a hashtag: enough to fill a short list, never more. The theme's
            # own trends (``described``) are all about it already (``is_about``).
            break
        key = _title_key(item.title)
        if any(len(key & seen) >= max(1, round(0.6 * min(len(key), len(seen)))) for seen in keys):
            continue
        keys.append(key)
        shown.append(item)
    direct: dict[str, float] = defaultdict(float)
    nearby: dict[str, float] = defaultdict(float)
    for hits, trend in related:
        velocity = engagement_velocity(trend, now) * hits
        for tag in dict.fromkeys(t.lower().lstrip("#") for t in trend.hashtags):
            if not tag or tag in GENERIC_HASHTAGS:
                continue
            if any(_tag_has(tag, k) for k in keywords):
                direct[tag] += velocity
            else:
                nearby[tag] += velocity
    ordered = sorted(direct, key=lambda t: (-direct[t], t)) + sorted(
        nearby, key=lambda t: (-nearby[t], t)
    )
    return TopicTrends(
        topic=name,
        keywords=list(keywords),
        hashtags=ordered[:hashtag_n],
        trends=[_top_video(item) for item in shown],
    )


def _top_video(item: ScoredTrend) -> TopVideo:
    return TopVideo(
        platform=item.platform,
        external_id=item.external_id,
        title=item.title,
        description=item.description,
        creator=item.creator,
        views=item.views,
        velocity=round(item.velocity, 3),
        engagement_rate=round(item.engagement_rate, 5),
        style=item.style,
        duration_seconds=item.duration_seconds,
    )
