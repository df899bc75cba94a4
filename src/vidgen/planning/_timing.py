"""Originality (how alike two plans are) and timing scenes to the spoken voice."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vidgen.planning._plan import MIN_SCENES, ProductionPlan, Scene
from vidgen.planning._words import _COUNT_WORDS, _SENTENCE_END, _capital, count_words, fit_words

# --------------------------------------------------------------------------------------------
# Originality: how alike two videos are


def _script_words(script: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", script.lower())


def plan_similarity(new: ProductionPlan, old: Mapping[str, Any]) -> float:
    """How alike two plans are, 0-1: the higher of their scripts' word-sequence similarity and
    their scene sequences' (each scene's kind, headline and main subject)."""
    import difflib

    old_scenes = old.get("scenes") if isinstance(old.get("scenes"), list) else []
    # What the videos say, without their calls to action: a channel asks the same question
    # at the end of every video about a product, and that is a signature, not a repeat.
    said = [s.narration for s in new.scenes if s.kind != "cta"]
    old_said = [
        str(s.get("narration") or "")
        for s in old_scenes or []
        if isinstance(s, Mapping) and s.get("kind") != "cta"
    ]
    old_script = " ".join(old_said) if old_said else str(old.get("voiceover_script") or "")
    script = difflib.SequenceMatcher(
        None, _script_words(" ".join(said)), _script_words(old_script), autojunk=False
    ).ratio()

    def key(scene: Mapping[str, Any]) -> str:
        subjects = scene.get("subjects") or [""]
        first = subjects[0] if isinstance(subjects, list) and subjects else ""
        return f"{scene.get('kind')}|{scene.get('headline')}|{first}"

    new_keys = [key(scene.model_dump()) for scene in new.scenes]
    old_keys = [key(s) for s in old_scenes or [] if isinstance(s, Mapping)]
    scenes = difflib.SequenceMatcher(None, new_keys, old_keys, autojunk=False).ratio()
    return round(max(script, scenes), 3)


def nearest_plan(
    new: ProductionPlan, earlier: Iterable[tuple[int, Mapping[str, Any]]]
) -> tuple[int, float] | None:
    """(job id, similarity) of the earlier plan most like ``new``; None when there is none."""
    best: tuple[int, float] | None = None
    for job_id, old in earlier:
        similarity = plan_similarity(new, old)
        if best is None or similarity > best[1]:
            best = (job_id, similarity)
    return best


# The video runs on this long after the last word: a breath, never a silent tail.
SPEECH_TAIL = 0.7
# A scene's picture and text arrive this long before its first word is heard.
SCENE_LEAD = 0.25
# No scene shorter than this, whatever the timings say: a flash is not a scene.
MIN_SCENE_SECONDS = 0.5


def with_joined_script(plan: ProductionPlan) -> ProductionPlan:
    """The plan whose voiceover is exactly its scenes' narrations in order.

    Scene *i* is on screen while its narration is heard, so the script cannot say anything the
    scenes do not (an LLM may write a script of its own; the narrations win).
    """
    joined = " ".join(" ".join(scene.narration.split()) for scene in plan.scenes)
    if plan.voiceover_script == joined:
        return plan
    return plan.model_copy(update={"voiceover_script": joined})


def retime_to_speech(
    plan: ProductionPlan, words: Sequence[Mapping[str, Any]], *, max_duration: float
) -> ProductionPlan:
    """Scene durations from when each scene's narration is actually heard.

    ``words`` are the voice's word timings (slices of ``plan.voiceover_script``, which must be
    the joined narrations, see ``with_joined_script``). Scene *i* starts ``SCENE_LEAD`` before
    its first word (never before the previous scene's last word) and the video ends
    ``SPEECH_TAIL`` after the last word, at most ``max_duration``: the video is as long as
    what is said, so nothing runs ahead of the picture and no silent tail is left.
    """
    from vidgen.media.captions import locate_words

    script = plan.voiceover_script
    located = locate_words(script, words)
    if not located:
        return plan
    ranges: list[tuple[int, int]] = []
    cursor = 0
    for scene in plan.scenes:
        text = " ".join(scene.narration.split())
        at = script.find(text, cursor)
        if at < 0:
            return plan  # not the joined narrations: keep the planned durations
        ranges.append((at, at + len(text)))
        cursor = at + len(text)
    spans: list[tuple[float, float] | None] = []
    for first, last in ranges:
        inside = [(a, b) for (p, q, a, b) in located if p < last and q > first]
        spans.append((inside[0][0], inside[-1][1]) if inside else None)
    known = [span for span in spans if span is not None]
    speech_end = known[-1][1]
    total = round(min(max_duration, speech_end + SPEECH_TAIL), 3)
    boundaries = [0.0]
    previous_end = 0.0
    for i in range(1, len(spans)):
        before, span = spans[i - 1], spans[i]
        if before is not None:
            previous_end = before[1]
        if span is None:
            start = previous_end + MIN_SCENE_SECONDS
        else:
            start = max(previous_end, span[0] - SCENE_LEAD)
        start = max(start, boundaries[-1] + MIN_SCENE_SECONDS)
        boundaries.append(round(start, 3))
    # Keep room for the scenes that follow, even if timings were odd.
    for i in range(len(boundaries) - 1, 0, -1):
        room = total - MIN_SCENE_SECONDS * (len(boundaries) - i)
        boundaries[i] = round(min(boundaries[i], room), 3)
    if any(b <= a for a, b in itertools.pairwise([*boundaries, total])):
        return plan
    durations = [round(b - a, 3) for a, b in itertools.pairwise(boundaries)]
    durations.append(round(total - math.fsum(durations), 7))
    scenes = [
        scene.model_copy(update={"duration_seconds": seconds})
        for scene, seconds in zip(plan.scenes, durations, strict=True)
    ]
    return ProductionPlan.model_validate(
        {**plan.model_dump(), "scenes": [s.model_dump() for s in scenes], "duration_seconds": total}
    )


def shorten_for_speech(plan: ProductionPlan, ratio: float) -> ProductionPlan:
    """The same plan saying about ``ratio`` of its words (0 < ratio < 1), by whole sentences.

    Used when the synthesized voice turned out slower than the configured rate. Middle scenes
    go from the end (their time goes to the others), then extra sentences of long scenes; a
    sentence is cut only when a scene has just one left and the plan still runs long.
    """
    target = max(len(plan.scenes), math.floor(count_words(plan.voiceover_script) * ratio))
    scenes = [scene.model_copy() for scene in plan.scenes]

    def total() -> int:
        return sum(count_words(scene.narration) for scene in scenes)

    while total() > target and len(scenes) > MIN_SCENES:
        dropped = scenes.pop(-2)
        scenes[-2] = scenes[-2].model_copy(
            update={"duration_seconds": scenes[-2].duration_seconds + dropped.duration_seconds}
        )
    while total() > target:
        longest = max(range(len(scenes)), key=lambda i: count_words(scenes[i].narration))
        parts = [p for p in _SENTENCE_END.split(scenes[longest].narration.strip()) if p]
        if len(parts) > 1:
            scenes[longest] = scenes[longest].model_copy(update={"narration": " ".join(parts[:-1])})
            continue
        # Then what a sentence means to the viewer (", thin enough for ..."): the claim before
        # its last comma is still a whole sentence.
        head, comma, tail = parts[0].rstrip(".!?").rpartition(", ") if parts else ("", "", "")
        if comma and len(head.split()) >= 4 and len(tail.split()) >= 3:
            scenes[longest] = scenes[longest].model_copy(update={"narration": f"{head}."})
            continue
        # Last resort (a video too short for even one whole sentence per scene): words come
        # off the longest narrations first, so a short hook or call to action stays whole.
        budgets = [count_words(scene.narration) for scene in scenes]
        while sum(budgets) > target:
            i = max(range(len(budgets)), key=lambda k: (budgets[k], -k))
            if budgets[i] <= 1:
                break
            budgets[i] -= 1
        scenes = [
            scene.model_copy(update={"narration": fit_words(scene.narration, budget)})
            for scene, budget in zip(scenes, budgets, strict=True)
        ]
        break
    scenes = [scene.model_copy(update={"index": i}) for i, scene in enumerate(scenes)]
    title = plan.title
    if len(scenes) < len(plan.scenes):
        # "Three reasons ..." must not introduce two: the hook's count follows the items left.
        before, after = len(plan.scenes) - 2, len(scenes) - 2
        scenes[0], title = _recount(scenes[0], title, before, after)
    durations = [scene.duration_seconds for scene in scenes]
    durations[-1] = round(plan.duration_seconds - math.fsum(durations[:-1]), 7)
    scenes = [
        s.model_copy(update={"duration_seconds": d}) for s, d in zip(scenes, durations, strict=True)
    ]
    script = " ".join(scene.narration for scene in scenes)
    return plan.model_copy(update={"scenes": scenes, "voiceover_script": script, "title": title})


def _recount(hook: Scene, title: str, before: int, after: int) -> tuple[Scene, str]:
    """The hook (and title) with a count of ``before`` items said as ``after``."""
    if not (0 < after < before < len(_COUNT_WORDS)):
        return hook, title

    def swap(text: str) -> str:
        word = _COUNT_WORDS[before]
        text = re.sub(rf"\b{word}\b", _COUNT_WORDS[after], text)
        text = re.sub(rf"\b{_capital(word)}\b", _capital(_COUNT_WORDS[after]), text)
        text = re.sub(rf"\b{before}( \w+)$", rf"{after}\1", text)
        if after == 1:  # "One ... idea", not "One ... ideas"
            text = re.sub(r"\b(idea|reason|thing|step)s\b", r"\1", text, count=1)
        return text

    headline = swap(hook.headline) if hook.headline else None
    return hook.model_copy(update={"narration": swap(hook.narration), "headline": headline}), swap(
        title
    )
