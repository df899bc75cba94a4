"""Stage 3: plan the video, synthesize its voiceover and render one clip per scene.

The plan comes from ``vidgen.planning`` (local templates by default, an LLM on request) fed with
the theme config and the ``trend_analysis`` outputs. The voiceover is synthesized before any clip
is rendered because it decides the timing: if the voice runs past the video, the script is cut
to fit and spoken once more (if it still does not fit, the attempt fails with what to change);
then every scene is timed to its spoken sentences and the video ends just after the last word,
so the recorded scene durations are the real ones. Only then is the plan written
(``plan.json`` + a ``ContentPlan`` row) and the clips rendered at those durations.

Render size: ``ctx.config.resolution``; the runner has already applied a ``VIDGEN_PROFILE``
override to the config, so drafts and tests render small without editing theme files.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, ConfigDict, Field

from vidgen.errors import StageError
from vidgen.files import atomic_write_text
from vidgen.media.pronounce import respell
from vidgen.media.speech import WordTiming, in_script_words
from vidgen.media.tts import Voiceover, choose_voice, get_tts
from vidgen.media.visuals import Clip, ClipSpec, get_visual_source
from vidgen.planning import (
    SPEECH_TAIL,
    ProductionPlan,
    get_planner,
    retime_to_speech,
    shorten_for_speech,
    with_joined_script,
)
from vidgen.stages import trend_analysis
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.store import trends

# Aim a shortened script this far under the video length: speech rate is not exactly linear in
# word count, and one more failed fit would fail the attempt.
REFIT_MARGIN = 0.9


class RecordedClip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str  # relative to the job folder
    duration: float = Field(ge=0)
    # True when the clip is a real picture of what the scene says (your photo or clip, stock
    # footage): the composition then shows it full-bleed instead of an illustration over a
    # backdrop. False for the procedural backdrop.
    shows_subject: bool = False


class RecordedVoiceover(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str  # relative to the job folder
    duration: float = Field(ge=0)
    words: list[WordTiming]
    sentences: list[WordTiming]


class ProviderModels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planner: str | None
    tts: str | None


class ProvidersUsed(BaseModel):
    """Which providers made the video, for the generation log."""

    model_config = ConfigDict(extra="forbid")

    planner: str
    visuals: str
    tts: str
    models: ProviderModels
    clip_sources: list[str | None]  # per clip: stock page URL or image path


class Output(StageOutput):
    """The plan's scene durations are the spoken ones (scene *i* lasts while its narration is
    heard) and its ``voiceover_script`` is exactly the scenes' narrations joined; ``width``,
    ``height`` and ``fps`` are what the clips were rendered for."""

    STAGE = "content_generation"
    # This stage always records its voiceover; a stage package of a team's own may leave it
    # out, and composition then makes a video without narration or captions.
    OMIT_WHEN_NONE = frozenset({"voiceover"})

    plan_id: int
    plan_path: str
    plan: ProductionPlan
    clips: list[RecordedClip]
    voiceover: RecordedVoiceover | None = None
    providers: ProvidersUsed
    prompts: dict[str, str]
    width: int
    height: int
    fps: int


def source_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """Clip size for a visuals source: the output size times its ``source_scale``, kept even."""
    scale = min(1.0, max(0.1, scale))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def clip_seed(job_id: int, index: int) -> int:
    """A stable per-scene seed, so a retried job renders the same procedural footage."""
    digest = hashlib.sha256(f"{job_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _check_tts_cost(ctx: StageContext, tts: object, text: str, rate: int) -> None:
    estimate = getattr(tts, "estimate_cost", None)
    if callable(estimate):
        ctx.check_cost(float(estimate(text, rate)), f"the {ctx.config.config.providers.tts} voice")


def _speak(
    ctx: StageContext, plan: ProductionPlan
) -> tuple[ProductionPlan, Voiceover, float, bool]:
    """Synthesize the voiceover, shorten the script once if it runs past the video, then time
    the scenes to the speech (``retime_to_speech``): the recorded durations are the real ones."""
    settings = ctx.config.config
    choice = choose_voice(settings.providers.tts, ctx.config.voice_name, settings.language)
    if choice.note:
        ctx.log(choice.note)
    tts = get_tts(choice.provider)
    out = ctx.work_dir / "voiceover.wav"
    target = plan.duration_seconds
    plan = with_joined_script(plan)
    rate = settings.voice.rate

    def say(script: str) -> Voiceover:
        # The voice reads a respelled copy (names, prices, units); the words it reports are
        # mapped back onto the script's own, so captions and scene timing quote the script.
        said = respell(script, settings.pronunciations, language=settings.language)
        if said.changed:
            ctx.log("the voice says " + ", ".join(
                f"{said.text[p.spoken[0]:p.spoken[1]]!r} for {script[p.written[0]:p.written[1]]!r}"
                for p in said.pieces
            ))  # fmt: skip
        _check_tts_cost(ctx, tts, said.text, rate)
        voiced = tts.synthesize(said.text, out, voice=choice.voice, rate=rate, ctx=ctx)
        return in_script_words(voiced, said)

    spoken = say(plan.voiceover_script)
    cost = spoken.cost
    shortened = _speech_end(spoken) + SPEECH_TAIL > target
    if shortened:
        ratio = (target - SPEECH_TAIL) / max(_speech_end(spoken), 0.1) * REFIT_MARGIN
        ctx.log(
            f"voiceover ran {spoken.duration:.2f} s for a {target:g} s video; "
            f"shortening the script to {ratio:.0%} and speaking it again"
        )
        plan = shorten_for_speech(plan, ratio)
        ctx.check_cancelled()
        ctx.add_cost(cost)
        spoken = say(plan.voiceover_script)
        cost += spoken.cost
        if _speech_end(spoken) > target:
            raise StageError(
                f"the voiceover runs {spoken.duration:.1f} s but the video is "
                f"{target:g} s even after shortening the script; raise voice.rate or "
                "video_duration_seconds, or shorten the talking points"
            )
    timed = retime_to_speech(
        plan, [word.model_dump() for word in spoken.words], max_duration=target
    )
    if timed.duration_seconds < target:
        ctx.log(
            f"the narration takes {_speech_end(spoken):.1f} s: the video is "
            f"{timed.duration_seconds:g} s instead of {target:g} s, so it never runs silent"
        )
    return timed, spoken, cost, shortened


def _speech_end(spoken: Voiceover) -> float:
    return spoken.words[-1].end if spoken.words else spoken.duration


def _save_plan(ctx: StageContext, plan: ProductionPlan) -> int:
    """Insert the job's ContentPlan row, or update it when this stage is re-run."""
    return trends.save_plan(
        ctx.store,
        ctx.job_id,
        title=plan.title,
        plan=plan.model_dump(mode="json"),
        voiceover_script=plan.voiceover_script,
    )


def run(ctx: StageContext) -> StageResult:
    # The planners take the report as the plain data it is recorded as (they sit below stages).
    report = ctx.output(trend_analysis.Output).model_dump(mode="json")
    width, height, fps = ctx.config.resolution
    settings = ctx.config.config

    planner = get_planner(ctx.config)
    estimate = getattr(planner, "estimate_cost", None)
    if callable(estimate):
        what = f"the {ctx.config.config.providers.planner} planner"
        ctx.check_cost(float(estimate(ctx.config, report, ctx.job_id)), what)
    planned = planner.plan(ctx.config, report, ctx.job_id)
    ctx.add_cost(planned.cost)
    ctx.check_cancelled()
    plan, voiceover, tts_cost, shortened = _speak(ctx, planned.plan)

    plan_path = ctx.work_dir / "plan.json"
    document = {
        "job_id": ctx.job_id,
        "provider": planned.provider,
        "model": planned.model,
        "prompts": planned.prompts,
        "voiceover_shortened": shortened,
        "plan": plan.model_dump(mode="json"),
    }
    atomic_write_text(plan_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    plan_id = _save_plan(ctx, plan)

    # The user's own pictures win over the generated backdrop when the config lists some.
    source_name = settings.providers.visuals
    if source_name == "procedural" and settings.images:
        source_name = "images"
    visuals = get_visual_source(source_name, [ctx.config.resolve_path(p) for p in settings.images])
    clip_width, clip_height = source_size(width, height, visuals.source_scale)
    specs = [
        ClipSpec(
            index=scene.index,
            duration=scene.duration_seconds,
            width=clip_width,
            height=clip_height,
            fps=fps,
            style=plan.style,
            keywords=scene.keywords,
            seed=clip_seed(ctx.job_id, scene.index),
        )
        for scene in plan.scenes
    ]

    def render(spec: ClipSpec) -> Clip:
        ctx.check_cancelled()
        return visuals.render(spec, ctx.work_dir / f"clip-{spec.index:02d}.mp4", ctx=ctx)

    # Two clips at a time: each is one short single-threaded ffmpeg run (or a download), so a
    # second one uses the other core instead of waiting.
    with ThreadPoolExecutor(max_workers=2) as pool:
        clips: list[Clip] = list(pool.map(render, specs))

    output = Output(
        plan_id=plan_id,
        plan_path=ctx.rel(plan_path),
        plan=plan,
        clips=[RecordedClip(path=ctx.rel(clip.path), duration=clip.duration) for clip in clips],
        voiceover=RecordedVoiceover(
            path=ctx.rel(voiceover.path),
            duration=voiceover.duration,
            words=voiceover.words,
            sentences=voiceover.sentences,
        ),
        providers=ProvidersUsed(
            planner=planned.provider,
            visuals=visuals.name,
            tts=voiceover.provider,
            models=ProviderModels(planner=planned.model, tts=voiceover.model),
            clip_sources=[clip.source for clip in clips],
        ),
        prompts=planned.prompts,
        width=width,
        height=height,
        fps=fps,
    )
    cost = planned.cost + tts_cost + sum(clip.cost for clip in clips)
    return StageResult(
        output=output,
        files=[plan_path, *(clip.path for clip in clips), voiceover.path],
        cost=round(cost, 8),
    )
