"""Looking at rendered frames as a viewer would, in numbers: seam lines, sharpness, difference.

Frames are decoded by the bundled ffmpeg to 8-bit gray and handled as numpy arrays.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidgen.media.ffmpeg import ffmpeg_exe

Gray = NDArray[np.float64]


def gray_frame(video: Path, at: float) -> Gray:
    """The frame at ``at`` seconds, full size, as a float array of gray levels (rows x columns)."""
    probe = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1",
         "-pix_fmt", "gray", "-f", "image2pipe", "-c:v", "pgm", "-"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    data = probe.stdout
    # PGM: "P5\n<w> <h>\n255\n" then the pixels.
    header, _, rest = data.partition(b"\n255\n")
    width, height = (int(v) for v in header.split()[1:3])
    return np.frombuffer(rest[: width * height], np.uint8).reshape(height, width).astype(float)


def seam_rows(frame: Gray, *, threshold: float = 3.0, coverage: float = 0.85) -> list[int]:
    """Rows that run across (nearly) the whole width and differ from both neighbours.

    A drawn line, a band edge or a chroma seam does this; picture content never does over
    ``coverage`` of the width. Two-pixel lines are caught by comparing with the rows two away.
    """
    found: set[int] = set()
    for gap in (1, 2):
        row = frame[gap:-gap]
        above = row - frame[: -2 * gap]
        below = row - frame[2 * gap :]
        # Same sign on both sides: brighter (or darker) than both neighbours.
        bright = (above > threshold) & (below > threshold)
        dark = (above < -threshold) & (below < -threshold)
        share = np.maximum(bright.mean(axis=1), dark.mean(axis=1))
        found.update(int(r) + gap for r in np.nonzero(share >= coverage)[0])
    return sorted(found)


def steepest_edge(region: Gray) -> float:
    """How steep the steepest edges are (99.7th percentile of horizontal steps, gray levels).

    Text drawn at the output size goes from outline to fill within a pixel (~250 levels); the
    same text rendered smaller and upscaled spreads that over 2+ pixels (~100).
    """
    return float(np.percentile(np.abs(np.diff(region, axis=1)), 99.7))


def resampled(region: Gray, factor: int = 2) -> Gray:
    """``region`` shrunk by ``factor`` and enlarged back: what an upscaled render looks like."""
    from PIL import Image

    image = Image.fromarray(region.astype(np.uint8))
    small = image.resize((image.width // factor, image.height // factor), Image.Resampling.BILINEAR)
    back = small.resize(image.size, Image.Resampling.BICUBIC)
    return np.asarray(back, dtype=float)


def sharpness_ratio(region: Gray) -> float:
    """Steepest edges of ``region`` over those of its resampled copy: near 1 if it was
    upscaled already, clearly above 1 when it holds detail at full resolution."""
    return steepest_edge(region) / max(1.0, steepest_edge(resampled(region)))


def mean_abs_diff(a: Gray, b: Gray) -> float:
    return float(np.abs(a - b).mean())
