"""A contact sheet: one frame per scene of a generated video, side by side.

    .venv/bin/python scripts/contact_sheet.py        # the newest video -> ./contact-sheet.jpg
    .venv/bin/python scripts/contact_sheet.py 12     # job 12's video
    .venv/bin/python scripts/contact_sheet.py --out docs/contact-sheet.jpg   # the README's image

Finds the video in vidgen's home (``$VIDGEN_HOME``, default ``~/.vidgen``), wherever the command
runs; writes ``./contact-sheet.jpg`` unless ``--out`` names another file, so the image tracked in
``docs/`` changes only when asked.

Takes the generation log the review stage wrote beside the video (it names the video, its
thumbnail and holds the plan with its scene durations) and shows the designed cover first, then
each scene's frame two thirds into the scene (its card has popped in, its caption is mid-line),
grabbed with the bundled ffmpeg.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from vidgen.media.ffmpeg import ffmpeg_exe

TILE_HEIGHT = 480  # each frame is shown at 270x480


def main(log_path: str, out: str = "contact-sheet.jpg") -> None:
    log = json.loads(Path(log_path).read_text(encoding="utf-8"))
    video = Path(log["paths"]["video"])
    tiles: list[Image.Image] = []
    thumbnail = log["paths"].get("thumbnail")
    if thumbnail and Path(thumbnail).is_file():
        with Image.open(thumbnail) as cover:
            width = round(cover.width * TILE_HEIGHT / cover.height)
            small = cover.convert("RGB").resize((width, TILE_HEIGHT), Image.Resampling.LANCZOS)
            tiles.append(small)
    start = 0.0
    for scene in log["plan"]["scenes"]:
        duration = float(scene["duration_seconds"])
        at = start + duration * 2 / 3
        start += duration
        frame = Path(out).with_suffix(f".frame{len(tiles)}.png")
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(video),
             "-frames:v", "1", "-update", "1", str(frame)],
            check=True,
        )  # fmt: skip
        with Image.open(frame) as image:
            width = round(image.width * TILE_HEIGHT / image.height)
            tiles.append(
                image.convert("RGB").resize((width, TILE_HEIGHT), Image.Resampling.LANCZOS)
            )
        frame.unlink()
    gap = 6
    sheet = Image.new(
        "RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), TILE_HEIGHT), (16, 16, 16)
    )
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + gap
    sheet.save(out, quality=88)
    print(f"{out}: {len(tiles)} tiles (the cover, then one per scene) from {video.name}")


def find_log(which: str | None) -> Path:
    """The generation log of job ``which`` (an id), the file ``which`` names, or the newest one
    in the home's review/approved/rejected folders. SystemExit with one line if there is none."""
    from vidgen.settings import load_settings

    if which is not None and not which.isdigit():
        path = Path(which).expanduser()
        if not path.is_file():
            raise SystemExit(f"Error: {which}: no such generation log (a job-N-....json file)")
        return path
    root = load_settings().output_root
    pattern = f"job-{which}-*.json" if which is not None else "job-*.json"
    folders = [root / name for name in ("review", "approved", "rejected")]
    logs = [path for folder in folders for path in folder.glob(pattern)]
    if not logs:
        what = f"job {which}" if which is not None else "any job"
        raise SystemExit(f"Error: no generated video of {what} under {root}; run 'make run' first")
    return max(logs, key=lambda p: p.stat().st_mtime)


def cli(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="One frame per scene of a generated video.")
    parser.add_argument("video", nargs="?", help="job id or generation log; default: the newest")
    parser.add_argument("--out", default="contact-sheet.jpg", help="image to write")
    args = parser.parse_args(argv)
    main(str(find_log(args.video)), args.out)


if __name__ == "__main__":
    cli(sys.argv[1:])
