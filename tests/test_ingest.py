"""Bringing media in: links recognised, downloads from a local web server through yt-dlp
(direct links, pages with a video, HLS with an audio-only variant), refusals a creator can act
on, the plan checked before a download, and full runs from a link and from an upload to a
content pack — or to a request for a transcript when the sound cannot be recognised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import api, media, retrying, sources
from pipeline.download import Downloader, download_error
from pipeline.errors import ErrorCode, InvalidInput, StepError
from pipeline.settings import get_settings, reset_settings
from pipeline.steps.base import JobInfo, PlanStatus, StepContext
from pipeline.steps.ingest import Outputs as IngestOutputs
from pipeline.steps.transcribe import assess
from pipeline.urlguard import ConnectionGuard
from tests.support.cluster import PROJECT_ROOT
from tests.support.media_server import SAMPLE_TEXT, SAMPLE_VIDEO, MediaServer


@pytest.fixture
def server():
    with MediaServer() as running:
        yield running


@pytest.fixture
def private_ok(monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")
    reset_settings()
    return get_settings()


def _context(settings, job_id: str = "job-test") -> StepContext:
    return StepContext(job_id=job_id, run_id=f"{job_id}.r1", step="ingest", attempt=1, settings=settings)


def _job(kind: str, source: str, job_id: str = "job-test") -> JobInfo:
    return JobInfo(job_id=job_id, workspace="default", source_kind=kind, source=source, options={})


def _plan(max_minutes: int = 120) -> PlanStatus:
    return PlanStatus(
        workspace="default", plan="test", monthly_minutes=600, max_video_minutes=max_minutes, used_minutes=0
    )


# --- Recognising links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s&list=PL123",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=abc",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube.com/live/dQw4w9WgXcQ?feature=share",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "youtube.com/watch?v=dQw4w9WgXcQ",
    ],
)
def test_youtube_links_in_every_form_are_one_video(link, private_ok):
    kind, source = sources.classify(link, private_ok)  # no DNS here: the address check is lifted
    assert (kind, source) == ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert sources.fingerprint(kind, source) == "youtube:dQw4w9WgXcQ"


def test_youtube_links_that_are_not_one_video_are_refused(private_ok):
    for link in (
        "https://www.youtube.com/@somechannel",
        "https://www.youtube.com/playlist?list=PL1",
        "https://youtu.be/short",
    ):
        with pytest.raises(InvalidInput, match="not a single video"):
            sources.classify(link, private_ok)


def test_direct_links_can_be_turned_off(server, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_DIRECT_MEDIA", "0")
    reset_settings()
    with pytest.raises(InvalidInput, match="only YouTube links"):
        sources.classify(server.url("/sample.mp4"), get_settings())


def test_local_files_are_uploads_fingerprinted_by_content(tmp_path, settings):
    copy = tmp_path / "my talk.mp4"
    copy.write_bytes(SAMPLE_VIDEO.read_bytes())
    kind, source = sources.classify(str(copy), settings)
    assert kind == "upload" and source.startswith("media/uploads/") and source.endswith("-my_talk.mp4")
    kept = settings.data_dir / source  # kept in the data dir, where any worker can fetch it
    assert kept.read_bytes() == SAMPLE_VIDEO.read_bytes()
    _, same = sources.classify(str(SAMPLE_VIDEO), settings)  # the same content under another name
    assert sources.fingerprint(kind, source) == sources.fingerprint("upload", same)
    with pytest.raises(InvalidInput, match="not found"):
        sources.classify(str(tmp_path / "missing.mp4"), settings)


# --- Downloads -----------------------------------------------------------------------------


def _downloader(tmp_path, guard: ConnectionGuard | None = None, **kwargs) -> Downloader:
    return Downloader(tmp_path / "media", guard or ConnectionGuard(allow_private=True), **kwargs)


def test_direct_link_download(server, tmp_path):
    progress: list[float] = []
    downloader = _downloader(tmp_path, progress=progress.append)
    fetched = downloader.fetch(downloader.metadata(server.url("/sample.mp4")))
    assert fetched.media_path.read_bytes() == SAMPLE_VIDEO.read_bytes()
    assert progress and progress[-1] == 1.0


def test_a_page_with_a_video(server, tmp_path):
    downloader = _downloader(tmp_path)
    info = downloader.metadata(server.url("/page.html"))
    fetched = downloader.fetch(info)
    assert "Repurposing one video" in fetched.info["title"]
    assert media.probe(fetched.media_path).duration_s == pytest.approx(media.probe(SAMPLE_VIDEO).duration_s)


def test_the_audio_only_stream_is_chosen_over_the_video(server, tmp_path):
    master = server.add_hls()
    downloader = _downloader(tmp_path)
    fetched = downloader.fetch(downloader.metadata(master))
    video_bytes = sum(p.stat().st_size for p in Path(server.files["/hls/video.m3u8"]).parent.glob("video-*.ts"))
    assert not any(path.startswith("/hls/video-") for path in server.requests)
    assert fetched.bytes_downloaded < 0.8 * video_bytes
    probed = media.probe(fetched.media_path)
    assert probed.has_audio and probed.video_codec is None


def test_a_missing_page_is_a_clear_invalid_input(server, tmp_path):
    downloader = _downloader(tmp_path)
    with pytest.raises(StepError) as failed:
        downloader.metadata(server.url("/gone.mp4"))
    assert failed.value.code is ErrorCode.INVALID_INPUT
    assert "does not exist (404)" in failed.value.message


def test_a_site_having_a_bad_moment_is_retried_by_the_call_policy(server, tmp_path):
    quick = retrying.CallPolicy(max_tries=4, budget_s=60, initial_s=0.05)
    downloader = _downloader(tmp_path, policy=quick)
    server.unavailable["/sample.mp4"] = 2  # the metadata request, then its retry, get 503
    info = downloader.metadata(server.url("/sample.mp4"))
    server.unavailable["/sample.mp4"] = 1  # and the download once
    fetched = downloader.fetch(info)
    assert fetched.media_path.read_bytes() == SAMPLE_VIDEO.read_bytes()

    server.unavailable["/sample.mp4"] = 100  # down for good: the policy gives up, retryable for the step
    with pytest.raises(StepError) as failed:
        _downloader(tmp_path / "again", policy=quick).metadata(server.url("/sample.mp4"))
    assert failed.value.code is ErrorCode.NETWORK_ERROR
    assert server.unavailable["/sample.mp4"] == 100 - quick.max_tries


def test_a_redirect_to_a_private_address_is_refused(server, tmp_path):
    with MediaServer() as internal:
        link = server.redirect("/promo.mp4", internal.url("/sample.mp4"))
        public_only = ConnectionGuard(exempt=frozenset({("127.0.0.1", server.port)}))  # the first site is "public"
        with pytest.raises(StepError) as refused:
            _downloader(tmp_path, public_only).metadata(link)
        assert internal.connections == 0
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert "redirect was refused" in refused.value.message and "private" in refused.value.message
    assert server.requests["/promo.mp4"] == 1


def test_every_connection_the_downloader_opens_is_checked(server, tmp_path):
    """No URL check in front: the downloader's own connections refuse a private address."""
    with pytest.raises(StepError) as refused:
        _downloader(tmp_path, ConnectionGuard()).metadata(f"http://localhost:{server.port}/sample.mp4")
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert server.connections == 0


@pytest.mark.parametrize(
    ("message", "code", "words"),
    [
        (
            "ERROR: [youtube] abc: Private video. Sign in if you've been granted access",
            ErrorCode.INVALID_INPUT,
            "private",
        ),
        (
            "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
            ErrorCode.INVALID_INPUT,
            "removed",
        ),
        ("ERROR: Unsupported URL: https://example.com/", ErrorCode.INVALID_INPUT, "no video was found"),
        ("ERROR: Unable to download webpage: HTTP Error 404: Not Found", ErrorCode.INVALID_INPUT, "404"),
        ("ERROR: Unable to download webpage: HTTP Error 429: Too Many Requests", ErrorCode.RATE_LIMITED, "limiting"),
        ("ERROR: Unable to download webpage: The read operation timed out", ErrorCode.TIMEOUT, "too long"),
        (
            "ERROR: Unable to download webpage: <urlopen error [Errno 111] Connection refused>",
            ErrorCode.NETWORK_ERROR,
            "could not be reached",
        ),
        ("ERROR: [youtube] abc: Sign in to confirm your age", ErrorCode.INVALID_INPUT, "age-restricted"),
        ("ERROR: something nobody expected", ErrorCode.UPLOAD_FAILED, "something nobody expected"),
    ],
)
def test_download_failures_map_to_error_codes(message, code, words):
    error = download_error(message)
    assert error.code is code
    assert words in error.message
    assert code.retryable == (
        code in (ErrorCode.RATE_LIMITED, ErrorCode.TIMEOUT, ErrorCode.NETWORK_ERROR, ErrorCode.UPLOAD_FAILED)
    )


# --- The ingest step -----------------------------------------------------------------------


def test_ingest_a_link_keeps_metadata_and_the_audio(server, private_ok):
    source = sources.ingest(_context(private_ok), _job("link", server.url("/page.html")), _plan())
    assert "Repurposing one video" in source.title
    assert source.duration_s == pytest.approx(media.probe(SAMPLE_VIDEO).duration_s, abs=0.5)
    assert source.webpage_url == server.url("/page.html")
    audio = private_ok.data_dir / source.audio_path  # stored by key, in the job's media folder
    assert media.wav_duration(audio) == pytest.approx(source.duration_s, abs=0.5)
    assert source.audio_path.startswith("media/job-test/") and audio.parent == private_ok.media_dir / "job-test"


def test_the_plan_refuses_a_long_video_before_it_is_downloaded(server, private_ok):
    master = server.add_hls()
    with pytest.raises(StepError) as refused:
        sources.ingest(_context(private_ok), _job("link", master), _plan(max_minutes=0))
    assert refused.value.code is ErrorCode.QUOTA_EXCEEDED
    assert not any(path.endswith(".ts") for path in server.requests)


def test_ingest_an_upload(tmp_path, settings):
    upload = api.save_upload(SAMPLE_VIDEO.read_bytes(), "Launch day recap.mp4")
    source = sources.ingest(_context(settings), _job("upload", str(upload)), _plan())
    assert source.title == "Launch day recap"
    assert settings.data_dir / source.media_path == upload
    assert (settings.data_dir / source.audio_path).is_file()
    with pytest.raises(StepError) as refused:
        sources.ingest(_context(settings, "job-2"), _job("upload", str(upload), "job-2"), _plan(max_minutes=0))
    assert refused.value.code is ErrorCode.QUOTA_EXCEEDED


# --- Full runs -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_direct_media_link_becomes_a_content_pack(cluster_factory, server):
    cluster_factory(CLIPINSIGHT_ALLOW_PRIVATE_URLS="1")
    job_id = api.submit(server.url("/sample.mp4")).job_id
    report = api.wait_for(job_id, timeout=240)
    assert report["status"] == "ANALYTICS_LOGGED", report
    files = api.bundle_files_for(job_id)
    transcript = next(text for name, text in files.items() if name.endswith(".srt"))
    assert "newsletter" in transcript.lower()
    insights = json.loads(files["insights.json"])
    assert report["title"] == insights["title"] != "sample"  # a file's name gives way to the talk's own title
    data_dir = get_settings().data_dir  # the download and its audio are the user's alone
    media_files = [path for path in (data_dir / "media" / job_id).rglob("*") if path.is_file()]
    assert media_files and {oct(path.stat().st_mode & 0o777) for path in media_files} == {"0o600"}
    assert oct(data_dir.stat().st_mode & 0o777) == "0o700"


def _silent_talk(folder: Path) -> Path:
    """Forty seconds of a quiet hum: a real sound track with no words in it."""
    path = folder / "hum.m4a"
    subprocess.run(
        [
            media.ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=60:duration=40",
            "-af",
            "volume=0.05",
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.mark.slow
def test_unrecognisable_sound_asks_for_a_transcript_and_resumes(cluster_factory, tmp_path, sample_srt):
    cluster_factory()
    job_id = api.submit(str(_silent_talk(tmp_path))).job_id
    report = api.wait_for(job_id, timeout=240)
    assert report["status"] == "NEEDS_USER_INPUT", report
    assert "please provide" in report["status_reason"]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "provide-transcript", job_id, str(sample_srt)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "INGESTED" in done.stdout
    report = api.wait_for(job_id, timeout=240)
    assert report["status"] == "ANALYTICS_LOGGED", report
    assert "thanks for having me" in next(t for n, t in api.bundle_files_for(job_id).items() if n.endswith(".srt"))


def test_captions_the_source_has_are_the_transcript(server, private_ok):
    ctx = _context(private_ok)
    source = sources.ingest(ctx, _job("link", server.url("/captioned.html")), _plan())
    assert source.captions_path and source.captions_path.endswith(".vtt")
    transcript = sources.transcribe(ctx, source)
    assert transcript.source == "captions"
    assert transcript.segments[0].text.startswith("Welcome to this short video")
    assert transcript.text.split() == SAMPLE_TEXT.read_text().split()
    assert assess(transcript, source.duration_s).ok


def test_unreadable_captions_fall_back_to_speech_recognition(server, private_ok, tmp_path):
    ctx = _context(private_ok)
    source = sources.ingest(ctx, _job("link", server.url("/sample.mp4")), _plan())
    broken = tmp_path / "broken.en.vtt"
    broken.write_text("WEBVTT\n\n00:xx.000 --> 00:02.000\nbroken\n")
    transcript = sources.transcribe(ctx, source.model_copy(update={"captions_path": str(broken)}))
    assert transcript.source == "asr"
    assert any("could not be read" in line[-1] for line in ctx.log_lines)
    assert ctx.provenance["transcript"].provider == "whisper"


def test_a_download_over_the_size_limit_is_refused(server, tmp_path):
    downloader = _downloader(tmp_path, max_bytes=100_000)
    with pytest.raises(StepError) as refused:
        downloader.fetch(downloader.metadata(server.url("/sample.mp4")))
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert "larger than the upload limit" in refused.value.message


def test_youtube_metadata_is_kept_for_the_job():
    info = {
        "title": " Batch recording in 2026 ",
        "channel": "Maya Creates",
        "uploader": "maya",
        "upload_date": "20260314",
        "thumbnail": "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
        "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    }
    job = _job("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    source = sources._described(job, info, 754.0, "media/job-test/media.webm", "media/job-test/audio-16k.wav", None)
    fields = IngestOutputs(source=source).job_fields()
    assert fields["title"] == "Batch recording in 2026" and fields["duration_s"] == 754.0
    assert fields["metadata"] == {
        "kind": "youtube",
        "title": "Batch recording in 2026",
        "duration_s": 754.0,
        "channel": "Maya Creates",
        "upload_date": "2026-03-14",
        "thumbnail_url": "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
        "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    }
