"""The plan's shape: scenes, the production plan, the planner protocol."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, Field, field_validator, model_validator

from vidgen.config import ThemeConfig

MIN_SCENES = 3
MAX_SCENES = 6
MAX_HASHTAGS = 10
MAX_ON_SCREEN_CHARS = 60
# Spoken words per second is rate/60. Both offline voices speak about voice.rate words per
# minute with their pauses included (Piper: 47 words in 17 s at 165), so only a little slack is
# kept; a voice that still runs over is shortened once and spoken again.
SPEECH_FILL = 0.92
# Below this a scene flashes by too fast to read its on-screen text.
SECONDS_PER_SCENE_TARGET = 2.5
# Durations must add up; floats only to within rounding.
DURATION_TOLERANCE = 1e-6

# What a planner reads besides the config, as plain data: the trend analysis stage's report,
# and the narration of the config's recent videos, newest first.
Report = Mapping[str, Any]
Scripts = Sequence[str]

_HASHTAG = re.compile(r"^#\w+$")
_NON_TAG_CHARS = re.compile(r"[^\w]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by for from has have in into is it its of on or so than my "
        "that the their this to was were will with you your yours our we us can one every "
        "while any all more just get got here there what when why how who which",
    )
)


# What a scene is for; the composition picks its layout by it (``vidgen.media.scenes``).
#   hook        the opening: the subject big, a short headline
#   feature     one fact about the subject: its picture, the caption carries the words
#   list_item   one item of a list: its number big (``number``), its picture
#   step        one step of a how-to: its number big (``number``), its picture
#   fact        a number or figure: the figure big (``headline``)
#   comparison  two things side by side (``subjects`` holds both)
#   cta         the call to action, last
SceneKind = Literal["hook", "feature", "list_item", "step", "fact", "comparison", "cta"]
SCENE_KINDS: tuple[str, ...] = get_args(SceneKind)
MAX_HEADLINE_CHARS = 40


class Scene(BaseModel):
    index: int = Field(ge=0)
    duration_seconds: float = Field(gt=0)
    on_screen_text: str = Field(min_length=1, max_length=MAX_ON_SCREEN_CHARS)
    narration: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list, max_length=12)
    # Plans recorded before these fields existed load with the defaults.
    kind: SceneKind = "feature"
    # Big text that adds what the voice does not say at that moment (a number, a product name,
    # a list heading); never the sentence being spoken. None: only the caption is shown.
    headline: str | None = Field(default=None, max_length=MAX_HEADLINE_CHARS)
    number: int | None = Field(default=None, ge=1)  # list_item / step
    # The concrete things the scene talks about, most important first ("kettle", "backpack"):
    # what its pictures show.
    subjects: list[str] = Field(default_factory=list, max_length=3)


class ProductionPlan(BaseModel):
    title: str = Field(min_length=1, max_length=150)
    description: str
    hashtags: list[str] = Field(max_length=MAX_HASHTAGS)
    style: str = Field(min_length=1)
    duration_seconds: float = Field(gt=0, description="the video duration the scenes add up to")
    scenes: list[Scene] = Field(min_length=MIN_SCENES, max_length=MAX_SCENES)
    voiceover_script: str = Field(min_length=1)
    # What the whole video is about, by name ("PocketBrew Travel Kettle") and in plain words a
    # picture can be found for ("kettle", "tea"): the fallback picture of every scene.
    subject: str | None = None
    subject_terms: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("hashtags")
    @classmethod
    def _hashtags_clean(cls, tags: list[str]) -> list[str]:
        seen: set[str] = set()
        for tag in tags:
            if not _HASHTAG.match(tag):
                raise ValueError(f"hashtag {tag!r} must be '#' followed by letters, digits or _")
            if tag.lower() in seen:
                raise ValueError(f"hashtag {tag!r} is listed twice")
            seen.add(tag.lower())
        return tags

    @model_validator(mode="after")
    def _scenes_fill_duration(self) -> ProductionPlan:
        for position, scene in enumerate(self.scenes):
            if scene.index != position:
                raise ValueError(f"scene at position {position} has index {scene.index}")
        total = math.fsum(scene.duration_seconds for scene in self.scenes)
        if abs(total - self.duration_seconds) > DURATION_TOLERANCE:
            raise ValueError(
                f"scene durations add up to {total:g} s, "
                f"not the video's {self.duration_seconds:g} s"
            )
        return self


class PlanResult(BaseModel):
    plan: ProductionPlan
    provider: str
    model: str | None
    prompts: dict[str, str]
    cost: float = 0.0
    # What the generation log should say about how the plan came about (a fallback, a retry).
    notes: list[str] = Field(default_factory=list)


class Planner(Protocol):
    """Writes the production plan for one job.

    Contract:
    - ``plan(config, report, job_id)`` returns a ``PlanResult`` whose plan has 3-6 scenes with
      durations summing to ``config.config.video_duration_seconds`` and ``style`` set.
    - ``report`` is the ``trend_analysis`` stage's outputs (``pattern``, ``top_hashtags``,
      ``dominant_style``, ``typical_duration_seconds``, ``top_videos``...); missing keys are
      tolerated, so a plan can be made from a sparse report.
    - ``prompts`` records what was asked (for the generation log); ``cost`` is in US dollars.
    - ``variant`` 0 is the plan of choice; 1, 2... are other angles (another reference, another
      script shape) on the same job, asked for when a plan is too like an earlier video.
    - ``said`` is the narration of the recent videos made from the same config, newest first:
      a video of a product they covered leads with what they left out (the key selling point
      may be said again); empty for the first video.
    - Raises ``StageError`` when another attempt may succeed (network) and ``FatalStageError``
      when no retry can (missing credentials, nothing to say about the theme).
    """

    name: str

    def plan(
        self, config: ThemeConfig, report: Report, job_id: int, variant: int = 0, said: Scripts = ()
    ) -> PlanResult: ...
