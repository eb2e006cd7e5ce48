"""Media sources — YouTube links, direct media links (and pages with a video), uploaded files:
recognised at submission, checked in the validate step, brought in by the ingest step and
turned into a transcript by the transcribe step.

Kinds: ``youtube``, ``link`` (any other http(s) URL, when direct media is allowed) and
``upload`` (a local file, from the CLI or saved by the UI).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

from pipeline import media, transcription, urlguard
from pipeline.context import StepContext
from pipeline.errors import ErrorCode, InvalidInput, StepError
from pipeline.files import Files, files_for
from pipeline.options import JobInfo
from pipeline.plans import PlanStatus, check_quota
from pipeline.providers import speech_recognizer
from pipeline.settings import Settings
from pipeline.transcript import Transcript

__all__ = ["SourceInfo", "classify", "fingerprint", "check_source", "ingest", "transcribe", "youtube_id"]

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtu.be",
    "www.youtube-nocookie.com",
    "youtube-nocookie.com",
}
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_PATH_ID = re.compile(r"^/(?:shorts|live|embed|v|e)/([A-Za-z0-9_-]{11})(?:[/?]|$)")


class SourceInfo(BaseModel):
    """What the ingest step learned about the source, and where its media lies."""

    kind: str
    title: str
    duration_s: float | None = None
    channel: str | None = None
    upload_date: str | None = None
    thumbnail_url: str | None = None
    webpage_url: str | None = None
    media_path: str | None = None
    audio_path: str | None = None
    captions_path: str | None = None


def _is_url(source: str) -> bool:
    return "://" in source or source.startswith(("www.", "youtube.com", "youtu.be", "m.youtube.com"))


def classify(source: str, settings: Settings) -> tuple[str, str]:
    """(kind, normalised source) for a URL or a local media file; :class:`InvalidInput` otherwise."""
    source = (source or "").strip()
    if not source:
        raise InvalidInput("give a YouTube link, a media link or a media file")
    if not _is_url(source):
        path = Path(source).expanduser().resolve()
        media.check_upload(path, settings.max_upload_mb)
        return "upload", files_for(settings).keep_upload(path)  # kept in the data dir: any worker can fetch it
    url = source if "://" in source else f"https://{source}"
    url = urlguard.check_url(url, allow_private=settings.allow_private_urls)
    video = youtube_id(url)
    if video:
        return "youtube", f"https://www.youtube.com/watch?v={video}"
    if urlsplit(url).hostname in _YOUTUBE_HOSTS:
        raise InvalidInput("this YouTube link is not a single video (a channel or playlist?); link to one video")
    if not settings.allow_direct_media:
        raise InvalidInput("only YouTube links are accepted here (direct media links are turned off)")
    return "link", url


def youtube_id(url: str) -> str | None:
    """The 11-character video id of a watch, youtu.be, shorts, live or embed link."""
    parts = urlsplit(url)
    if parts.hostname not in _YOUTUBE_HOSTS:
        return None
    if parts.hostname == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
        return candidate if _VIDEO_ID.match(candidate) else None
    if parts.path == "/watch":
        candidate = (parse_qs(parts.query).get("v") or [""])[0]
        return candidate if _VIDEO_ID.match(candidate) else None
    match = _PATH_ID.match(parts.path)
    return match.group(1) if match else None


def fingerprint(kind: str, source: str) -> str:
    """What makes two submissions the same: the video id, the URL, or the file's content (an
    upload's key is named by its content)."""
    if kind == "youtube":
        return f"youtube:{youtube_id(source)}"
    if kind == "upload":
        return f"upload:{Path(source).name.split('-', 1)[0]}"
    return f"{kind}:{source}"


def check_source(kind: str, source: str, settings: Settings) -> float | None:
    """The validate step's check, run again at processing time (DNS and files change since
    submission). Returns the duration when it is known without downloading."""
    if kind == "upload":
        return media.check_upload(files_for(settings).fetch(source), settings.max_upload_mb).duration_s
    if kind not in ("youtube", "link"):
        raise StepError(ErrorCode.INVALID_INPUT, f"unknown source kind {kind!r}")
    urlguard.check_url(source, allow_private=settings.allow_private_urls)
    return None


# --- Ingest ----------------------------------------------------------------------------------


def ingest(ctx: StepContext, job: JobInfo, plan: PlanStatus | None = None) -> SourceInfo:
    """Bring the media in and extract its 16 kHz mono audio once, into the job's media folder."""
    files = files_for(ctx.settings)
    folder = files.path(f"media/{job.job_id}/audio.wav").parent  # made here; what is made there is sent on
    if job.source_kind == "upload":
        return _ingest_upload(ctx, job, plan, folder, files)
    return _ingest_url(ctx, job, plan, folder, files)


def _ingest_upload(ctx: StepContext, job: JobInfo, plan: PlanStatus | None, folder: Path, files: Files) -> SourceInfo:
    path = files.fetch(job.source)
    info = media.check_upload(path, ctx.settings.max_upload_mb)
    _check_plan(plan, info.duration_s)
    audio = media.extract_audio(path, folder, ctx.progress, info.duration_s)
    ctx.info(f"upload {path.name}: {_minutes(info.duration_s)}, {info.container}; audio extracted")
    return SourceInfo(
        kind="upload",
        title=_title_from_file(path),
        duration_s=info.duration_s,
        media_path=files.key(path),
        audio_path=files.save(audio),
    )


def _ingest_url(ctx: StepContext, job: JobInfo, plan: PlanStatus | None, folder: Path, files: Files) -> SourceInfo:
    from pipeline.download import Downloader  # yt-dlp takes ~0.25 s to import; only ingest needs it

    guard = urlguard.ConnectionGuard(allow_private=ctx.settings.allow_private_urls)
    downloader = Downloader(
        folder, guard, max_bytes=ctx.settings.max_upload_mb * 1_000_000, progress=lambda f: ctx.progress(0.9 * f)
    )
    info = downloader.metadata(job.source)
    _check_plan(plan, info.get("duration"))  # before the download: refuse what the plan cannot take
    fetched = downloader.fetch(info)
    probed = media.probe(fetched.media_path)
    duration = float(fetched.info.get("duration") or probed.duration_s or 0) or None
    if not info.get("duration"):
        _check_plan(plan, duration)
    audio = media.extract_audio(fetched.media_path, folder, lambda f: ctx.progress(0.9 + 0.1 * f), duration)
    ctx.info(
        f"downloaded {fetched.bytes_downloaded / 1e6:.2f} MB ({fetched.info.get('format_id')}, "
        f"{_minutes(duration)})" + ("; captions found" if fetched.captions_path else "")
    )
    media_key, audio_key = files.save(fetched.media_path), files.save(audio)
    captions_key = files.save(fetched.captions_path) if fetched.captions_path else None
    return _described(job, fetched.info, duration, media_key, audio_key, captions_key)


def _check_plan(plan: PlanStatus | None, duration_s: float | None) -> None:
    if plan is not None and duration_s:
        check_quota(plan, float(duration_s))


def _described(
    job: JobInfo, info: dict, duration: float | None, media_key: str, audio_key: str, captions_key: str | None
) -> SourceInfo:
    return SourceInfo(
        kind=job.source_kind,
        title=(info.get("title") or "").strip() or "Untitled video",
        duration_s=duration,
        channel=info.get("channel") or info.get("uploader"),
        upload_date=_iso_date(info.get("upload_date")),
        thumbnail_url=info.get("thumbnail"),
        webpage_url=info.get("webpage_url") or job.source,
        media_path=media_key,
        audio_path=audio_key,
        captions_path=captions_key,
    )


def _iso_date(value: str | None) -> str | None:
    if not value or not re.fullmatch(r"\d{8}", value):
        return None
    return date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()


def _title_from_file(path: Path) -> str:
    stem = re.sub(r"^[0-9a-f]{16}-", "", path.stem)  # uploads kept by the UI carry a content prefix
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Untitled video"


def _minutes(seconds: float | None) -> str:
    return f"{seconds / 60:.1f} min" if seconds else "length unknown"


def _fetched(files: Files, key: str | None) -> Path | None:
    """The file of ``key`` on this host, or None when there is none (any more)."""
    if not key:
        return None
    try:
        path = files.fetch(key)
    except InvalidInput:
        return None
    return path if path.is_file() else None


# --- Transcribe ------------------------------------------------------------------------------


def transcribe(ctx: StepContext, source: SourceInfo) -> Transcript:
    """Captions the source has, else speech recognition of the extracted audio."""
    if source.captions_path:
        transcript = _captions(ctx, files_for(ctx.settings).fetch(source.captions_path))
        if transcript is not None:
            return transcript
    return _recognized(ctx, source)


def _captions(ctx: StepContext, path: Path) -> Transcript | None:
    try:
        transcript = transcription.captions_transcript(path)
    except InvalidInput as exc:
        ctx.warning(f"the captions could not be read ({exc}); recognising speech instead")
        return None
    if not transcription.assess(transcript, None).ok:
        ctx.warning("the captions are too thin to use; recognising speech instead")
        return None
    ctx.info(f"using the source's captions ({path.suffix.lstrip('.')})")
    return transcript


def _recognized(ctx: StepContext, source: SourceInfo) -> Transcript:
    files = files_for(ctx.settings)
    audio = _fetched(files, source.audio_path)
    if audio is None:
        if not source.media_path:
            raise StepError(ErrorCode.INVALID_INPUT, "this job has no media to transcribe")
        folder = files.path(f"media/{ctx.job_id}/audio.wav").parent
        audio = media.extract_audio(files.fetch(source.media_path), folder)
    recognizer = speech_recognizer(ctx.settings)
    generation = transcription.recognize(recognizer, audio, ctx.progress)
    ctx.record("transcript", generation.provenance)
    ctx.info(f"speech recognised with {recognizer.name} ({recognizer.model})")
    return generation.value
