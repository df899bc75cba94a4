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
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vidgen.errors import FatalStageError, StageError, StageTimeout
from vidgen.files import atomic_write_text
from vidgen.media.ffmpeg import FfmpegError
from vidgen.media.library import Match, SceneWords, config_library, match_scenes
from vidgen.media.pronounce import respell
from vidgen.media.speech import WordTiming, in_script_words
from vidgen.media.stock import StockCache, get_stock_provider
from vidgen.media.tts import Voiceover, choose_voice, get_tts
from vidgen.media.visuals import (
    Clip,
    ClipSpec,
    ProceduralVisuals,
    StockVideos,
    YourMedia,
    get_visual_source,
)
from vidgen.planning import (
    SPEECH_TAIL,
    Planner,
    PlanResult,
    ProductionPlan,
    Scene,
    get_planner,
    nearest_plan,
    retime_to_speech,
    shorten_for_speech,
    with_joined_script,
)
from vidgen.registry import STOCK_SOURCES
from vidgen.stages import trend_analysis
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.store import trends
from vidgen.store.models import utcnow

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


class ClipChoice(BaseModel):
    """What one scene shows and why, for the generation log."""

    model_config = ConfigDict(extra="forbid")

    provider: str  # pexels | pixabay | media | images | procedural
    source: str | None  # stock page URL or the photo/clip's path; None when generated
    # The scene's words the photo or clip matched (your media), or the stock query that found it.
    matched: list[str] = Field(default_factory=list)
    licence: str | None = None  # "user-supplied", the stock site's licence; None if generated


class ProvidersUsed(BaseModel):
    """Which providers made the video, for the generation log."""

    model_config = ConfigDict(extra="forbid")

    planner: str
    visuals: str
    tts: str
    models: ProviderModels
    clip_sources: list[str | None]  # per clip: stock page URL or image path
    clip_choices: list[ClipChoice] = Field(default_factory=list)  # per clip


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


# How many other angles (reference, script shape) a plan too like an earlier video may take.
LOCAL_VARIANTS = 9
LLM_VARIANTS = 3


def _original_plan(ctx: StageContext, planner: Planner, report: Mapping[str, Any]) -> PlanResult:
    """The first plan (of its variants) unlike every video made from the same config file in the
    last ``originality.days`` with the same theme or about the same subject; the nearest
    earlier one and its similarity go in the prompts (the generation log). None left:
    "duplicate of job K", failed or warned."""
    rules = ctx.config.config.originality
    earlier = (
        trends.sibling_plans(ctx.store, ctx.job_id, utcnow() - timedelta(days=rules.days))
        if rules.days > 0
        else []
    )
    tries = LOCAL_VARIANTS if planner.name == "local" else LLM_VARIANTS
    # What they said, so a new video of a product leads with what they left out.
    said = [str(plan.get("voiceover_script") or "") for _, _, plan in earlier]
    closest: tuple[PlanResult, int, float] | None = None
    spent = 0.0  # every variant asked for is paid for, not only the one kept
    for variant in range(tries if earlier else 1):
        planned = planner.plan(ctx.config, report, ctx.job_id, variant, said)
        spent += planned.cost
        planned = planned.model_copy(update={"cost": spent})
        for note in planned.notes:
            ctx.log(note)
        # The videos of this theme, and those of any theme about the same subject: "--theme
        # Tea" must not remake the kettle video the file's own theme made yesterday.
        alike = [
            (job, plan)
            for job, same_theme, plan in earlier
            if same_theme or plan.get("subject") == planned.plan.subject
        ]
        nearest = nearest_plan(planned.plan, alike)
        if nearest is None:
            return planned
        job, similarity = nearest
        prompts = {**planned.prompts, "nearest_video": f"job {job}", "similarity": f"{similarity}"}
        planned = planned.model_copy(update={"prompts": prompts})
        if similarity < rules.threshold:
            ctx.log(f"nearest earlier video: job {job}, similarity {similarity:.2f}")
            return planned
        ctx.log(f"plan {variant + 1} is {similarity:.2f} like job {job}'s; trying another angle")
        if closest is None or similarity < closest[2]:
            closest = (planned, job, similarity)
        ctx.check_cancelled()
    assert closest is not None
    planned, job, similarity = closest
    planned = planned.model_copy(update={"cost": spent})
    message = (
        f"duplicate of job {job}: every angle on theme {ctx.theme!r} is {similarity:.2f} like a "
        f"video of the last {rules.days} days; add content references or talking points, or "
        "set originality.on_duplicate: warn"
    )
    if rules.on_duplicate == "fail":
        raise FatalStageError(message)
    ctx.log(f"warning: {message}")
    return planned


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
    planned = _original_plan(ctx, planner, report)
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

    clips, choices = _render_clips(ctx, plan, width, height, fps)
    source_name = settings.providers.visuals
    if source_name == "procedural" and settings.images:
        source_name = "images"  # the config's own pictures fill every scene nothing else does

    output = Output(
        plan_id=plan_id,
        plan_path=ctx.rel(plan_path),
        plan=plan,
        clips=[
            RecordedClip(
                path=ctx.rel(clip.path), duration=clip.duration, shows_subject=clip.shows_subject
            )
            for clip in clips
        ],
        voiceover=RecordedVoiceover(
            path=ctx.rel(voiceover.path),
            duration=voiceover.duration,
            words=voiceover.words,
            sentences=voiceover.sentences,
        ),
        providers=ProvidersUsed(
            planner=planned.provider,
            visuals=source_name,
            tts=voiceover.provider,
            models=ProviderModels(planner=planned.model, tts=voiceover.model),
            clip_sources=[clip.source for clip in clips],
            clip_choices=choices,
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


# --------------------------------------------------------------------------------------------
# Clips: stock footage, then your media, then illustrations


def _scene_words(plan: ProductionPlan, scene: Scene) -> SceneWords:
    return SceneWords(
        subjects=scene.subjects,
        keywords=scene.keywords,
        narration=scene.narration,
        video_subject=[plan.subject or "", *plan.subject_terms],
    )


def _render_clips(
    ctx: StageContext, plan: ProductionPlan, width: int, height: int, fps: int
) -> tuple[list[Clip], list[ClipChoice]]:
    """One clip per scene, each from the first source that has something for it.

    With a stock provider (``providers.visuals: pexels | pixabay``) each scene first searches
    stock footage; a scene it finds nothing for, or every scene once the provider is down (one
    warning in the log), falls back to the photo or clip of your media (the ``media:`` folder,
    the subject's ``images:``, the top-level ``images:``) that best matches what the scene
    says, then to the generated backdrop the illustrations are drawn over. A missing or
    rejected stock key still fails the job: the config asked for a provider that cannot work.
    """
    settings = ctx.config.config
    library = config_library(ctx.config, plan.subject)
    if library.problems:  # changed since generate checked them
        where = str(ctx.config.source) if ctx.config.source is not None else "config"
        raise FatalStageError(f"{where}: {library.problems[0].line()}; fix or remove it")
    picks: list[Match | None] = match_scenes(
        library.items, [_scene_words(plan, scene) for scene in plan.scenes]
    )
    stock: StockVideos | None = None
    if settings.providers.visuals in STOCK_SOURCES:
        cache = StockCache(ctx.settings.home / "cache" / "stock")
        stock = StockVideos(get_stock_provider(settings.providers.visuals), cache=cache)
    elif settings.providers.visuals not in ("procedural", "images"):
        get_visual_source(settings.providers.visuals, [])  # the registry's error for the name
    procedural, media = ProceduralVisuals(), YourMedia()
    down = threading.Event()
    warn_once = threading.Lock()

    def spec(scene: Scene, scale: float) -> ClipSpec:
        clip_width, clip_height = source_size(width, height, scale)
        return ClipSpec(
            index=scene.index,
            duration=scene.duration_seconds,
            width=clip_width,
            height=clip_height,
            fps=fps,
            style=plan.style,
            keywords=scene.keywords,
            seed=clip_seed(ctx.job_id, scene.index),
            subjects=scene.subjects,
            subject_terms=plan.subject_terms,
        )

    def from_stock(scene: Scene, out: Path) -> tuple[Clip, ClipChoice] | None:
        if stock is None or down.is_set():
            return None
        wanted = spec(scene, stock.source_scale)
        label = stock.provider.label
        try:
            with stock.client() as client:
                candidate, tried = stock.choose(wanted, client, ctx)
                if candidate is None:
                    ctx.log(
                        f"scene {scene.index + 1}: {label} has nothing for "
                        f"{' / '.join(repr(q) for q in tried) or 'its words'}"
                    )
                    return None
                try:
                    clip = stock.render_candidate(candidate, wanted, out, client=client, ctx=ctx)
                except (FatalStageError, FfmpegError) as exc:
                    # The search worked (the key is good) but this file is gone, refused or
                    # not decodable: the scene shows something else rather than failing the job.
                    ctx.log(f"scene {scene.index + 1}: {label} footage unusable ({exc})")
                    return None
        except (FatalStageError, StageTimeout):
            raise  # a missing or rejected key; a cancel or the time limit
        except StageError as exc:
            with warn_once:
                if not down.is_set():
                    down.set()
                    ctx.log(
                        f"warning: {label} is unavailable ({exc}); the scenes show your media "
                        "or illustrations instead"
                    )
            return None
        return clip, ClipChoice(
            provider=clip.provider, source=clip.source, matched=tried[-1:], licence=clip.licence
        )

    def render(scene: Scene) -> tuple[Clip, ClipChoice]:
        ctx.check_cancelled()
        out = ctx.work_dir / f"clip-{scene.index:02d}.mp4"
        found = from_stock(scene, out)
        if found is not None:
            return found
        pick = picks[scene.index]
        if pick is not None:
            clip = media.render_item(pick.item, spec(scene, media.source_scale), out, ctx=ctx)
            return clip, ClipChoice(
                provider=clip.provider,
                source=clip.source,
                matched=list(pick.matched),
                licence=clip.licence,
            )
        clip = procedural.render(spec(scene, procedural.source_scale), out, ctx=ctx)
        return clip, ClipChoice(provider=clip.provider, source=None)

    # Two clips at a time: each is one short single-threaded ffmpeg run (or a download), so a
    # second one uses the other core instead of waiting.
    with ThreadPoolExecutor(max_workers=2) as pool:
        rendered = list(pool.map(render, plan.scenes))
    return [clip for clip, _ in rendered], [choice for _, choice in rendered]
