"""The composition benchmark's peer: the same video made with MoviePy.

Runs in bench/.venv-moviepy (MoviePy pins Pillow<12, so it is never a vidgen dependency):

    bench/.venv-moviepy/bin/python bench/moviepy_compose.py MANIFEST.json OUT.mp4

The manifest (written by composition.py) names the 4 clips, scene durations, cross-fade length,
the layers vidgen rendered (icon cards, the kinetic text track's frames, captions), the
voiceover, the music bed and its volume. MoviePy has no ducking or loudness normalisation, so its
audio work is a plain mix (less than vidgen does). Encoder settings match vidgen's.
"""

from __future__ import annotations

import json
import os
import sys

from moviepy import (
    AudioFileClip,
    CompositeAudioClip,
    CompositeVideoClip,
    ImageClip,
    VideoFileClip,
    afx,
    vfx,
)


def _frames(overlay: dict) -> list[tuple[str, float, float]]:
    """(image, start, seconds) of an overlay: one still, or each entry of an ffconcat list."""
    # The scene cards are one ffconcat image sequence that floats (motion "float"), the
    # kinetic text one that does not ("sequence"): both are lists of frames.
    if not str(overlay["path"]).endswith(".ffconcat"):
        return [(overlay["path"], overlay["start"], overlay["end"] - overlay["start"])]
    folder = os.path.dirname(overlay["path"])
    entries, t = [], overlay["start"]
    with open(overlay["path"]) as handle:
        lines = [line.strip() for line in handle if line.strip()]
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("file ") and after.startswith("duration "):
            seconds = float(after.split()[1])
            if seconds > 0:
                entries.append((os.path.join(folder, line.split("'")[1]), t, seconds))
            t += seconds
    return entries


def main(manifest_path: str, out: str) -> None:
    with open(manifest_path) as handle:
        m = json.load(handle)
    width, height, fps, fade = m["width"], m["height"], m["fps"], m["transition"]
    durations = m["scene_durations"]
    total = float(sum(durations))
    layers = []
    start = 0.0
    for i, (path, duration) in enumerate(zip(m["clips"], durations, strict=True)):
        length = duration + (fade if i < len(durations) - 1 else 0.0)
        clip = VideoFileClip(path, audio=False).subclipped(0, length)
        w, h = clip.size
        crop_w = min(w, int(h * width / height) // 2 * 2)
        crop_h = min(h, int(w * height / width) // 2 * 2)
        clip = clip.cropped(x_center=w / 2, y_center=h / 2, width=crop_w, height=crop_h)
        clip = clip.resized((width, height)).with_start(start)
        if i > 0 and fade > 0:
            clip = clip.with_effects([vfx.CrossFadeIn(fade)])
        layers.append(clip)
        start += duration
    for overlay in m["overlays"]:
        for path, at, seconds in _frames(overlay):
            layers.append(
                ImageClip(path)
                .with_position((overlay["x"], overlay["y"]))
                .with_start(at)
                .with_duration(seconds)
            )
    video = CompositeVideoClip(layers, size=(width, height)).with_duration(total)
    voice = AudioFileClip(m["voiceover"])
    music = AudioFileClip(m["music"]).with_effects(
        [afx.AudioLoop(duration=total), afx.MultiplyVolume(m["music_volume"])]
    )
    audio = CompositeAudioClip([voice, music]).with_duration(total)
    video = video.with_audio(audio)
    video.write_videofile(
        out,
        fps=fps,
        codec="libx264",
        preset=m["encoder"]["preset"],
        audio_codec="aac",
        audio_bitrate="160k",
        audio_fps=48000,
        ffmpeg_params=["-crf", str(m["encoder"]["crf"]), "-profile:v", "high",
                       "-x264-params", m["encoder"]["x264_params"], "-pix_fmt", "yuv420p",
                       "-g", str(fps * 2), "-ac", "2", "-movflags", "+faststart"],
        temp_audiofile=out + ".temp-audio.m4a",
        logger=None,
    )  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
