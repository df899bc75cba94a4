"""4. Composition: a 20 s 1080x1920 30 fps video, vidgen's stage vs. the limit and a peer.

The job: 4 clips (the default job's procedural backdrops, 270x480, scaled up) with 0.35 s
cross-fades, an icon card per scene, a kinetic text track, word-timed karaoke captions, an
espeak voiceover and a looped music bed, ducked under the voice and loudness-normalised;
H.264 High with the stage's encoder settings + AAC 160k, +faststart.

- vidgen: ``vidgen.stages.composition.run(ctx)`` as the runner calls it: probe inputs, render
  the text PNGs, one ffmpeg run, verify the output, write the thumbnail. Also timed: the
  stage's own ffmpeg command alone (``build_command(spec)``), to split ffmpeg from the rest.
- (a) the practical limit: one hand-written ffmpeg command doing the same video and audio work
  with the same encoder settings and the same ffmpeg binary, given the PNGs ready-made.
- (b) MoviePy 2 in its own virtualenv (bench/.venv-moviepy), same inputs and PNGs, same
  encoder settings; no ducking/loudnorm (MoviePy has none), so it does less audio work.

Inputs are generated once under bench/results/composition-inputs/: clips with vidgen's
procedural visuals, the voiceover with vidgen's espeak TTS, the music as a mix of sines.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    RESULTS,
    ROOT,
    BenchError,
    Row,
    Section,
    log,
    median,
    python_has_module,
    run_cmd,
)

INPUTS = RESULTS / "composition-inputs"
MOVIEPY_VENV = BENCH / ".venv-moviepy"
MOVIEPY_PY = MOVIEPY_VENV / "bin" / "python"
WIDTH, HEIGHT, FPS = 1080, 1920, 30
SCENES = [
    (5.0, "Meet FocusFlow"),
    (5.0, "Warm light for your evenings"),
    (5.0, "One touch: reading or screen mode"),
    (5.0, "Charges your phone"),
]
SCRIPT = (
    "Meet FocusFlow, the desk lamp that works the way you do. Warm light in the evening, "
    "cool light for deep work. One touch switches between reading and screen modes. "
    "And it charges your phone while you work. Grab yours today."
)
# (keywords, style) of the four procedural backdrops, as the planner would give them.
CLIP_LOOKS = [
    (["desk", "lamp"], "product-demo"),
    (["evening", "light"], "product-demo"),
    (["reading", "screen"], "product-demo"),
    (["phone", "charge"], "product-demo"),
]
CLIP_SECONDS = 6.0


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Timer:
    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


TARGET_LIMIT = 1.15
TARGET_PEER = 5.0
TARGET_SSIM = 0.98
TARGET_BYTES = 1.5
# Bump when the inputs change shape (v2: scene cards and one kinetic text track, as the stage;
# v3: the default job's procedural backdrops instead of ffmpeg test patterns).
MANIFEST_VERSION = 5


def _ffmpeg() -> str:
    from vidgen.media.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def _ff(args: list[str]) -> None:
    run_cmd([_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args])


def ensure_inputs() -> dict[str, Any]:
    """Generate clips, voiceover, music, config and overlay PNGs once; return the manifest."""
    manifest_path = INPUTS / "manifest.json"
    if manifest_path.is_file():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        if (
            manifest.get("version") == MANIFEST_VERSION
            and "subtitles" in manifest
            and all(Path(p).is_file() for p in manifest["clips"])
        ):
            return manifest
    import yaml

    from vidgen.media import captions
    from vidgen.media.compose import scene_starts, transition_for
    from vidgen.media.scenes import Frame, plan_scene_visuals, scene_card, write_card_track
    from vidgen.media.tts import EspeakTTS
    from vidgen.planning import Scene

    log("  composition: generating inputs (once; cached)...")
    shutil.rmtree(INPUTS, ignore_errors=True)
    INPUTS.mkdir(parents=True)
    clips = []
    from vidgen.media.visuals import ClipSpec, ProceduralVisuals

    # The default job's backdrops: vidgen's procedural clips at their own (quarter) size, so
    # the picture rows (SSIM, bytes) measure the frames a default video is made of.
    visuals = ProceduralVisuals()
    clip_w, clip_h = round(WIDTH * visuals.source_scale), round(HEIGHT * visuals.source_scale)
    for i, (keywords, style) in enumerate(CLIP_LOOKS):
        clip = INPUTS / f"clip-{i}.mp4"
        visuals.render(
            ClipSpec(index=i, duration=CLIP_SECONDS, width=clip_w, height=clip_h, fps=FPS,
                     style=style, keywords=keywords, seed=1000 + i),
            clip,
        )  # fmt: skip
        clips.append(str(clip))
    music = INPUTS / "music.m4a"
    _ff(["-f", "lavfi", "-i", "sine=frequency=220:duration=30",
         "-f", "lavfi", "-i", "sine=frequency=277.18:duration=30",
         "-f", "lavfi", "-i", "sine=frequency=329.63:duration=30",
         "-filter_complex", "amix=inputs=3,volume=0.8", "-c:a", "aac", "-b:a", "128k",
         str(music)])  # fmt: skip
    voice = EspeakTTS().synthesize(SCRIPT, INPUTS / "voiceover.wav", voice="en-us", rate=165)
    words = [w.model_dump() for w in voice.words]
    sentences = [s.model_dump() for s in voice.sentences]

    config = yaml.safe_load((ROOT / "sample-data.yml").read_text())
    config["config"]["profile"] = "full"
    config["config"]["music"] = {"path": "music.m4a", "volume": 0.25}
    (INPUTS / "theme.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    durations = [d for d, _ in SCENES]
    total = sum(durations)
    overlays = []
    starts = scene_starts(durations)
    # The stage's own scene layers: one card of pictures per scene, all in one popping track.
    plan_scenes = [
        Scene(index=i, duration_seconds=d, on_screen_text=t, narration=t,
              kind="hook" if i == 0 else "cta" if i == len(SCENES) - 1 else "feature")
        for i, (d, t) in enumerate(SCENES)
    ]  # fmt: skip
    visuals = plan_scene_visuals(plan_scenes, title="FocusFlow Desk Lamp", theme="bench")
    frame = Frame.for_size(WIDTH, HEIGHT)
    cards = [
        card
        for visual, duration, start in zip(visuals, durations, starts, strict=True)
        if (card := scene_card(visual, frame, start=start, end=start + duration)) is not None
    ]
    track = write_card_track(cards, INPUTS / "overlays" / "cards", fps=FPS, total=total)
    if track is not None:
        overlays.append(track)
    tints = [list(visual.backdrop) for visual in visuals]
    # Captions as the stage makes them: karaoke ASS for libass, with the packaged fonts only.
    cues = captions.build_cues(SCRIPT, words, sentences, total=total)
    subtitles = INPUTS / "captions.ass"
    subtitles.write_text(captions.to_ass(cues, width=WIDTH, height=HEIGHT,
                                         font_for=captions.font_runs))  # fmt: skip
    fonts = INPUTS / "fonts"
    fonts.mkdir()
    for font in captions.font_files():
        (fonts / font.name).symlink_to(font)
    manifest = {
        "width": WIDTH, "height": HEIGHT, "fps": FPS,
        "clips": clips, "scene_durations": durations, "scene_texts": [t for _, t in SCENES],
        "transition": transition_for(durations),
        "tints": tints,
        "version": MANIFEST_VERSION,
        "encoder": {"preset": ENCODER.preset, "crf": ENCODER.crf,
                    "x264_params": ENCODER.x264_params},
        "overlays": [{"path": str(o.path), "x": o.x, "y": o.y, "start": o.start, "end": o.end,
                      "width": o.width, "height": o.height, "motion": o.motion}
                     for o in overlays],
        "voiceover": str(voice.path), "voice_duration": voice.duration,
        "words": words, "sentences": sentences,
        "music": str(music), "music_volume": 0.25, "config": str(INPUTS / "theme.yml"),
        "subtitles": str(subtitles), "fonts_dir": str(fonts), "captions": len(cues),
    }  # fmt: skip
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


class _Encoder:
    """The stage's encoder settings (CompositionSpec defaults): the same for (a)."""

    @property
    def _spec(self) -> Any:
        from vidgen.media.compose import CompositionSpec

        return CompositionSpec(clips=[], scene_durations=[], output=Path(), width=2, height=2)

    @property
    def preset(self) -> str:
        return str(self._spec.preset)

    @property
    def crf(self) -> int:
        return int(self._spec.crf)

    @property
    def x264_params(self) -> str:
        return str(self._spec.x264_params)


ENCODER = _Encoder()
# The quality reference: the previous default, veryfast at CRF 21.
REFERENCE = {"preset": "veryfast", "crf": 21, "x264_params": "sliced-threads=1:rc-lookahead=5"}


def hand_written_command(m: dict[str, Any], out: Path) -> list[str]:
    """What a person fluent in ffmpeg would write for this video, given the stage's layers."""
    durations, fade = m["scene_durations"], m["transition"]
    n, total = len(m["clips"]), sum(durations)
    args = [_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for clip in m["clips"]:
        args += ["-i", clip]
    for overlay in m["overlays"]:
        if overlay["motion"] in ("sequence", "float"):
            args += ["-f", "concat", "-safe", "0"]
        args += ["-i", overlay["path"]]
    args += ["-i", m["voiceover"], "-stream_loop", "-1", "-i", m["music"]]
    graph = []
    for i, duration in enumerate(durations):
        length = duration + (fade if i < n - 1 else 0)
        graph.append(
            f"[{i}:v]trim=duration={length},setpts=PTS-STARTPTS,crop=trunc(ih*9/16/2)*2:ih,"
            f"scale={m['width']}:{m['height']},setsar=1,fps={m['fps']},format=yuv420p[c{i}]"
        )
    last, offset = "c0", 0.0
    for i in range(1, n):
        offset += durations[i - 1]
        graph.append(f"[{last}][c{i}]xfade=transition=fade:duration={fade}:offset={offset}[x{i}]")
        last = f"x{i}"
    for j, o in enumerate(m["overlays"]):
        y = str(o["y"])
        if o["motion"] == "rise":  # the same ease-out rise and float as the stage
            since = f"(t-{o['start']:.3f})"
            y = f"'{o['y']}+57*pow(max(0,1-{since}/0.45),2)+7*sin(2*PI*{since}/3.2)'"
        elif o["motion"] == "float":  # the scene cards' gentle drift
            y = f"'{o['y']}+11*sin(2*PI*t/3.4)'"
        graph.append(
            f"[{last}][{n + j}:v]overlay={o['x']}:{y}:eof_action=repeat:"
            f"enable='between(t,{o['start']:.3f},{o['end']:.3f})'[o{j}]"
        )
        last = f"o{j}"
    voice, music = n + len(m["overlays"]), n + len(m["overlays"]) + 1
    graph += [
        f"[{last}]ass=filename={m['subtitles']}:fontsdir={m['fonts_dir']}[vout]",
        f"[{voice}:a]aresample=48000,aformat=channel_layouts=stereo,apad,atrim=0:{total},"
        "asplit=2[voice][key]",
        f"[{music}:a]aresample=48000,aformat=channel_layouts=stereo,"
        f"volume={m['music_volume']},atrim=0:{total}[bed]",
        "[bed][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked]",
        "[voice][ducked]amix=inputs=2:duration=first:normalize=0,"
        "loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000[aout]",
    ]  # fmt: skip
    args += [
        "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", ENCODER.preset, "-profile:v", "high",
        "-crf", str(ENCODER.crf), "-x264-params", ENCODER.x264_params,
        "-pix_fmt", "yuv420p", "-r", str(m["fps"]), "-g", str(m["fps"] * 2),
        "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2", "-t", str(total),
        "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    return args


def ensure_moviepy() -> str:
    if MOVIEPY_PY.is_file() and python_has_module(str(MOVIEPY_PY), "moviepy"):
        return str(MOVIEPY_PY)
    python3 = shutil.which("python3") or "python3"
    log(f"  composition: creating {MOVIEPY_VENV} and installing moviepy (once)...")
    run_cmd([python3, "-m", "venv", str(MOVIEPY_VENV)])
    run_cmd([str(MOVIEPY_PY), "-m", "pip", "install", "--quiet", "moviepy"], timeout=1200)
    return str(MOVIEPY_PY)


def _content_output(m: dict[str, Any], style: str) -> Any:
    """What content_generation records for the bench's inputs, typed as the runner hands it
    on (``ctx.output`` validates the whole model)."""
    from vidgen.stages.content_generation import Output

    durations = m["scene_durations"]
    scenes = [
        {"index": i, "duration_seconds": d, "on_screen_text": t, "narration": t}
        for i, (d, t) in enumerate(zip(durations, m["scene_texts"], strict=True))
    ]
    return Output.model_validate({
        "plan_id": 1, "plan_path": "plan.json",
        "plan": {"title": "FocusFlow Desk Lamp", "description": "bench", "hashtags": [],
                 "style": style, "duration_seconds": sum(durations), "scenes": scenes,
                 "voiceover_script": SCRIPT},
        "clips": [{"path": Path(c).name, "duration": CLIP_SECONDS} for c in m["clips"]],
        "voiceover": {"path": Path(m["voiceover"]).name, "duration": m["voice_duration"],
                      "words": m["words"], "sentences": m["sentences"]},
        "providers": {"planner": "template", "visuals": "procedural", "tts": "espeak",
                      "models": {"planner": None, "tts": None},
                      "clip_sources": [None] * len(scenes)},
        "prompts": {}, "width": m["width"], "height": m["height"], "fps": m["fps"],
    })  # fmt: skip


class _Stage:
    """Calls the real composition stage with a context like the runner's."""

    def __init__(self, m: dict[str, Any], work_root: Path) -> None:
        from vidgen.config import load_config
        from vidgen.settings import load_settings

        self.config = load_config(Path(m["config"]))
        self.settings = load_settings({"VIDGEN_HOME": str(work_root / "home")})
        self.work_root = work_root
        self.content = _content_output(m, self.config.config.style)
        self.runs = 0
        self.last: dict[str, Any] = {}

    def __call__(self) -> tuple[float, float]:
        from vidgen.stages import composition
        from vidgen.stages.base import StageContext

        self.runs += 1
        work = self.work_root / f"vidgen-{self.runs}"
        work.mkdir(parents=True)
        ctx = StageContext(
            job_id=1, stage="composition", attempt=1, theme="bench", config=self.config,
            settings=self.settings, job_dir=INPUTS, work_dir=work,
            outputs={"content_generation": self.content}, store=None,  # type: ignore[arg-type]
        )  # fmt: skip
        with Timer() as timer:
            result = composition.run(ctx)
        self.last = result.outputs
        shutil.rmtree(work)
        return timer.wall, timer.cpu


def run(quick: bool) -> Section:
    repeats = 2 if quick else 5
    peer_runs = 1 if quick else 2
    section = Section("composition", "4. Composition (20 s, 1080x1920, 30 fps)")
    m = ensure_inputs()
    moviepy = ensure_moviepy()
    work_root = INPUTS / "work"
    shutil.rmtree(work_root, ignore_errors=True)
    work_root.mkdir(parents=True)
    (work_root / "home").mkdir()
    stage = _Stage(m, work_root)
    hand_out = work_root / "hand.mp4"

    from vidgen.media import ffmpeg
    from vidgen.media.compose import CompositionSpec, build_command
    from vidgen.media.overlays import Overlay

    spec = CompositionSpec(
        clips=[Path(c) for c in m["clips"]], scene_durations=m["scene_durations"],
        output=work_root / "own.mp4", width=m["width"], height=m["height"], fps=m["fps"],
        voiceover=Path(m["voiceover"]), music=Path(m["music"]), music_volume=m["music_volume"],
        overlays=[Overlay(Path(o["path"]), o["x"], o["y"], o["start"], o["end"],
                          o["width"], o["height"], o["motion"])
                  for o in m["overlays"]],
        transition=m["transition"],
        subtitles=Path(m["subtitles"]), fonts_dir=Path(m["fonts_dir"]),
        tints=[tuple(t) for t in m.get("tints", [])],
    )  # fmt: skip

    def own() -> tuple[float, float]:
        with Timer() as timer:
            ffmpeg.run(build_command(spec))
        return timer.wall, timer.cpu

    def hand() -> tuple[float, float]:
        with Timer() as timer:
            subprocess.run(hand_written_command(m, hand_out), check=True)
        return timer.wall, timer.cpu

    log(f"  composition: stage, its ffmpeg command, hand-written x {repeats} rounds (+1 warm-up)")
    cases = {"vidgen": stage, "own": own, "hand": hand}
    for case in cases.values():  # warm-up: fonts, page cache, imports
        case()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for round_no in range(repeats):
        names = list(cases)
        k = round_no % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(cases[name]())
    from vidgen.media.ffmpeg import probe

    hand_info = probe(hand_out)
    if abs(hand_info.duration - 20.0) > 0.5 or (hand_info.width, hand_info.height) != (1080, 1920):
        raise BenchError(f"hand-written ffmpeg made the wrong video: {hand_info}")

    log("  composition: quality reference (the same command at veryfast / CRF 21)")
    from dataclasses import replace

    reference = work_root / "reference.mp4"
    ffmpeg.run(build_command(replace(spec, output=reference, **REFERENCE)))
    ssim = _ssim(spec.output, reference)
    size_ratio = spec.output.stat().st_size / reference.stat().st_size

    log(f"  composition: MoviePy x {peer_runs} (slow; no warm-up run)")
    peer_out = work_root / "moviepy.mp4"
    peer: list[tuple[float, float]] = []
    for _ in range(peer_runs):
        with Timer() as timer:
            run_cmd([moviepy, str(BENCH / "moviepy_compose.py"), str(INPUTS / "manifest.json"),
                     str(peer_out)], timeout=3600, cwd=work_root)  # fmt: skip
        peer.append((timer.wall, timer.cpu))
    peer_info = probe(peer_out)

    def med(values: list[tuple[float, float]], idx: int) -> float:
        return median([v[idx] for v in values])

    vg, limit, slow = med(samples["vidgen"], 0), med(samples["hand"], 0), med(peer, 0)
    vg_cpu, limit_cpu, slow_cpu = med(samples["vidgen"], 1), med(samples["hand"], 1), med(peer, 1)
    section.rows += [
        Row("composition stage vs one hand-written ffmpeg run", vg,
            baseline_name="(a) hand-written ffmpeg, same encoder", baseline=limit,
            ratio=vg / limit, target=f"<= {TARGET_LIMIT:.2f}x (a)",
            met=vg / limit <= TARGET_LIMIT, samples=repeats),
        Row("composition stage vs MoviePy", vg,
            baseline_name=f"(b) MoviePy {_moviepy_version(moviepy)}", baseline=slow,
            ratio=slow / vg, ratio_label="x faster",
            target=f">= {TARGET_PEER:.0f}x faster than (b)",
            met=slow / vg >= TARGET_PEER, samples=peer_runs),
        Row("  the stage's own ffmpeg command alone vs (a)", med(samples["own"], 0),
            baseline_name="(a) hand-written ffmpeg, same encoder", baseline=limit,
            ratio=med(samples["own"], 0) / limit, samples=repeats,
            note="build_command(spec) as the stage runs it, without probing, text rendering, "
            "verification and thumbnail"),
        Row("  CPU time (user+sys) vs (a)", vg_cpu, baseline_name="(a) hand-written ffmpeg",
            baseline=limit_cpu, ratio=vg_cpu / limit_cpu, samples=repeats,
            note="less sensitive to other load on the machine than wall time"),
        Row("  CPU time (user+sys) vs (b)", vg_cpu, baseline_name="(b) MoviePy",
            baseline=slow_cpu, ratio=slow_cpu / vg_cpu, ratio_label="x less", samples=peer_runs),
        Row("  picture: SSIM vs a veryfast/CRF 21 encode of the same frames", ssim, unit="",
            baseline_name="veryfast, CRF 21", target=f">= {TARGET_SSIM}",
            met=ssim >= TARGET_SSIM, samples=1,
            note=f"vidgen encodes with {ENCODER.preset}, CRF {ENCODER.crf}, {ENCODER.x264_params}"),
        Row("  picture: bytes vs the veryfast/CRF 21 encode", spec.output.stat().st_size / 1e6,
            unit="MB", baseline_name="veryfast, CRF 21", baseline=reference.stat().st_size / 1e6,
            ratio=size_ratio, target=f"<= {TARGET_BYTES}x", met=size_ratio <= TARGET_BYTES,
            samples=1),
    ]  # fmt: skip
    section.notes.append(
        f"vidgen and (a): median of {repeats} alternating runs after one warm-up each. "
        f"(b) MoviePy: {peer_runs} run(s) only, no warm-up (minutes per run; reported as "
        f"measured: {', '.join(f'{t:.0f} s' for t, _ in peer)}). CPU rows: user+sys seconds of "
        "the process and its children, less disturbed by other load than wall time. "
        "Outputs: vidgen "
        f"{stage.last.get('size_bytes', 0) / 1e6:.1f} MB, (a) {hand_info.size_bytes / 1e6:.1f} MB,"
        f" (b) {peer_info.size_bytes / 1e6:.1f} MB, all {hand_info.duration:.1f} s. "
        f"{len(m['overlays'])} overlays (4 icon cards, 1 kinetic text track) + {m['captions']} "
        "karaoke caption cues (libass); (a) uses the same layers and encoder settings as the stage."
    )
    shutil.rmtree(work_root, ignore_errors=True)
    return section


def _ssim(video: Path, reference: Path) -> float:
    proc = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(video), "-i", str(reference),
         "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return float(proc.stderr.rsplit("All:", 1)[1].split()[0])


def _moviepy_version(python: str) -> str:
    proc = subprocess.run(
        [python, "-c", "from importlib.metadata import version; print(version('moviepy'))"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()
