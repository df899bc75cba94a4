"""The production plan: what a video says and shows, scene by scene.

A ``Planner`` turns a theme config and a trend report into a ``ProductionPlan``. The theme picks
the subject (``choose_subject``: references by phrase and weight, else the theme itself from
the trends really about it). The default ``LocalPlanner`` is offline and deterministic (same job
id + config + report + variant, same plan): it writes whole sentences from the material in one
of several shapes (``SHAPES``), one fact each, and fills every scene's kind, headline, number
and subjects for the layouts. ``LLMPlanner`` asks a language model for the same plan, repairs
what is safely repairable, checks it against the same rules (``plan_problems``), asks once more
and otherwise hands over to the local planner.

Two invariants every plan keeps, whoever wrote it:

- scene durations add up to the video duration (the composition cuts clips to them), and
- the script is whole sentences that fit the video: ``video_duration_seconds`` is an upper
  bound, met by dropping whole sentences, never by cutting one (only a video too short for one
  sentence per scene is cut, as a last resort, by ``shorten_for_speech``).

The package: ``_plan`` (the plan's shape), ``_words`` (sentences, figures, facts),
``_subject`` (what a video is about), ``_script`` (shapes, fitting, timing lines),
``_trends`` (trend ideas and tips), ``_local`` (the offline planner), ``_timing``
(originality, timing to speech) and ``_llm`` (the language-model planner, ``get_planner``).
"""

from __future__ import annotations

from vidgen.planning._llm import (
    SYSTEM_PROMPT,
    LLMPlanner,
    build_user_prompt,
    get_planner,
    plan_problems,
    repair_plan_data,
)
from vidgen.planning._local import LocalPlanner
from vidgen.planning._plan import (
    DURATION_TOLERANCE,
    MAX_HASHTAGS,
    MAX_HEADLINE_CHARS,
    MAX_ON_SCREEN_CHARS,
    MAX_SCENES,
    MIN_SCENES,
    SCENE_KINDS,
    SECONDS_PER_SCENE_TARGET,
    SPEECH_FILL,
    Planner,
    PlanResult,
    ProductionPlan,
    Scene,
    SceneKind,
)
from vidgen.planning._script import (
    SHAPES,
    THEME_SHAPES,
    Line,
    default_scene_count,
    fit_lines,
    plan_hashtags,
    scenes_from_lines,
    spoken_load,
)
from vidgen.planning._subject import (
    PLATFORM_TAGS,
    Subject,
    choose_subject,
    reference_matches,
    reference_score,
    short_count,
    spoken_count,
    subject_candidates,
    theme_uncovered_message,
    uncovered_theme,
)
from vidgen.planning._timing import (
    MIN_SCENE_SECONDS,
    SCENE_LEAD,
    SPEECH_TAIL,
    nearest_plan,
    plan_similarity,
    retime_to_speech,
    shorten_for_speech,
    with_joined_script,
)
from vidgen.planning._trends import (
    MAX_TIP_WORDS,
    MIN_TIP_WORDS,
    Tip,
    theme_tips,
    tip_label,
    trend_idea,
    trend_tip,
)
from vidgen.planning._words import (
    Product,
    allot_seconds,
    count_words,
    fact_clause,
    figure_of,
    fit_words,
    hashtag,
    natural_case,
    normalize_hashtags,
    same_fact,
    scene_subjects,
    split_durations,
    want_question,
    word_budget,
    words_per_second,
    written_figures,
)

__all__ = [
    "DURATION_TOLERANCE",
    "MAX_HASHTAGS",
    "MAX_HEADLINE_CHARS",
    "MAX_ON_SCREEN_CHARS",
    "MAX_SCENES",
    "MAX_TIP_WORDS",
    "MIN_SCENES",
    "MIN_SCENE_SECONDS",
    "MIN_TIP_WORDS",
    "PLATFORM_TAGS",
    "SCENE_KINDS",
    "SCENE_LEAD",
    "SECONDS_PER_SCENE_TARGET",
    "SHAPES",
    "SPEECH_FILL",
    "SPEECH_TAIL",
    "SYSTEM_PROMPT",
    "THEME_SHAPES",
    "LLMPlanner",
    "Line",
    "LocalPlanner",
    "PlanResult",
    "Planner",
    "Product",
    "ProductionPlan",
    "Scene",
    "SceneKind",
    "Subject",
    "Tip",
    "allot_seconds",
    "build_user_prompt",
    "choose_subject",
    "count_words",
    "default_scene_count",
    "fact_clause",
    "figure_of",
    "fit_lines",
    "fit_words",
    "get_planner",
    "hashtag",
    "natural_case",
    "nearest_plan",
    "normalize_hashtags",
    "plan_hashtags",
    "plan_problems",
    "plan_similarity",
    "reference_matches",
    "reference_score",
    "repair_plan_data",
    "retime_to_speech",
    "same_fact",
    "scene_subjects",
    "scenes_from_lines",
    "short_count",
    "shorten_for_speech",
    "split_durations",
    "spoken_count",
    "spoken_load",
    "subject_candidates",
    "theme_tips",
    "theme_uncovered_message",
    "tip_label",
    "trend_idea",
    "trend_tip",
    "uncovered_theme",
    "want_question",
    "with_joined_script",
    "word_budget",
    "words_per_second",
    "written_figures",
]

# Like httpx: the public names say they live here, wherever the private module defines them
# (reprs, docs and the stage outputs' table name vidgen.planning, not vidgen.planning._plan).
for _name in __all__:
    _value = globals()[_name]
    if not _name.startswith("_") and getattr(_value, "__module__", "").startswith(__name__):
        _value.__module__ = __name__
