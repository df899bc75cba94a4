"""What a user does: make a real video with the real stages, then review it. Offline, no keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from vidgen.media.ffmpeg import probe

Cli = Callable[..., CliResult]


def _make_video(
    cli: Cli, expected_size: tuple[int, int], *options: str, tts: str = "piper"
) -> dict[str, object]:
    result = cli("generate", *options, "--wait")
    assert result.code == 0, result.out + result.err
    assert "job 1 completed" in result.out
    status = cli("status", "1", "--json").json()
    assert status["status"] == "completed" and status["progress_pct"] == 100.0

    videos = cli("videos", "--json").json()
    assert videos["count"] == 1
    video = videos["videos"][0]
    assert video["status"] == "pending_review"
    path = Path(video["video_path"])
    assert path.parent.name == "review" and path.suffix == ".mp4"
    info = probe(path)
    assert (info.width, info.height) == expected_size
    assert info.video_codec == "h264" and info.video_profile == "High"
    assert info.pixel_format == "yuv420p" and info.fps == 30
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    # As long as the narration (a breath after the last word), at most the configured length.
    import yaml

    from conftest import SAMPLE_CONFIG

    limit = yaml.safe_load(SAMPLE_CONFIG.read_text())["config"]["video_duration_seconds"]
    assert 8.0 <= info.duration <= limit + 0.05
    srt = path.with_suffix(".srt")
    assert srt.is_file() and "-->" in srt.read_text(encoding="utf-8")  # captions beside it
    head = path.read_bytes()[: 1 << 20]
    assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head  # +faststart

    thumbnail = Path(video["thumbnail_path"])
    assert thumbnail.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
    log = json.loads(Path(video["log_path"]).read_text())
    assert log["theme"] == "Product Demo"
    assert log["trend"]["pattern"]
    assert [s["stage"] for s in log["stages"]][:4] == [
        "trend_collection",
        "trend_analysis",
        "content_generation",
        "composition",
    ]
    assert log["providers"]["tts"] == tts
    assert log["total_cost"] == 0.0
    assert not list(path.parent.glob(".*.tmp"))  # nothing half-written left behind
    return video


def test_preview_video_end_to_end_then_approve(cli: Cli, home: Path) -> None:
    video = _make_video(cli, (360, 640))
    human = cli("status", "1")
    assert "completed" in human.out and Path(str(video["video_path"])).name in human.out

    approved = cli("approve", str(video["id"]), "--json")
    assert approved.code == 0, approved.err
    moved = approved.json()
    assert moved["status"] == "approved"
    assert Path(moved["video_path"]).parent.name == "approved"
    assert Path(moved["video_path"]).is_file()
    assert not Path(str(video["video_path"])).exists()
    # The captions moved with it.
    assert Path(moved["video_path"]).with_suffix(".srt").is_file()
    assert not Path(str(video["video_path"])).with_suffix(".srt").exists()
    again = cli("reject", str(video["id"]), "--reason", "too late")
    assert again.code == 1 and "already" in again.err
    assert cli("videos", "--status", "approved", "--json").json()["count"] == 1


def test_preview_video_with_the_neural_voice_from_a_relative_voice_path(
    cli: Cli, tmp_path: Path
) -> None:
    from vidgen.config import packaged_config_path
    from vidgen.media.piper_tts import resolve_voice

    bundled = resolve_voice("en-us")
    voices = tmp_path / "theme" / "voices"
    voices.mkdir(parents=True)
    shutil.copy(bundled.model, voices / "narrator.onnx")
    shutil.copy(bundled.config, voices / "narrator.onnx.json")
    config = packaged_config_path().read_text()
    config = config.replace("name: en-us ", "name: voices/narrator.onnx ")
    assert "tts: piper" in config and "voices/narrator.onnx" in config
    (tmp_path / "theme" / "theme.yml").write_text(config)

    video = _make_video(
        cli, (360, 640), "--config", str(tmp_path / "theme" / "theme.yml"), tts="piper"
    )
    log = json.loads(Path(str(video["log_path"])).read_text())
    assert log["providers"]["models"]["tts"] == "narrator"


@pytest.mark.slow
def test_full_size_video_end_to_end(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDGEN_PROFILE")
    video = _make_video(cli, (1080, 1920))
    rejected = cli("reject", str(video["id"]), "--reason", "logo too small", "--json").json()
    assert rejected["status"] == "rejected" and rejected["reason"] == "logo too small"
    assert Path(rejected["video_path"]).parent.name == "rejected"
