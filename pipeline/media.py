"""Media files: probe them, extract the 16 kHz mono WAV every transcription path uses, and cut
that WAV into chunks for parallel recognition.

ffmpeg comes from imageio-ffmpeg (a binary inside a pip package), so no system install is
needed; there is no ffprobe, so probing reads what ``ffmpeg -i`` prints.
"""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.errors import ErrorCode, InvalidInput, StepError
from pipeline.providers.base import ProgressFn
from pipeline.transcript import SUFFIXES as TRANSCRIPT_SUFFIXES

__all__ = [
    "MEDIA_SUFFIXES",
    "SAMPLE_RATE",
    "MediaInfo",
    "AudioChunk",
    "ffmpeg_exe",
    "probe",
    "check_upload",
    "extract_audio",
    "split_audio",
    "wav_duration",
]

#: File types accepted as uploads (and recognised in direct links).
MEDIA_SUFFIXES = frozenset({"mp4", "m4v", "mov", "mkv", "webm", "mp3", "m4a", "aac", "wav", "ogg", "opus", "flac"})
#: What speech recognizers want: 16 kHz, mono, 16-bit PCM.
SAMPLE_RATE = 16_000
AUDIO_FILENAME = "audio-16k.wav"

_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+.*?: (Audio|Video): ([^\s,]+)")
_INPUT = re.compile(r"Input #0, ([^\s]+), from")
_PROGRESS = re.compile(r"out_time_us=(\d+)")
_QUIET = ("-hide_banner", "-nostdin", "-loglevel", "error")
_TO_SPEECH_WAV = ("-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le")
_PROGRESS_TO_STDOUT = ("-progress", "pipe:1", "-nostats")


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float | None
    container: str
    audio_codec: str | None
    video_codec: str | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


@dataclass(frozen=True)
class AudioChunk:
    path: Path
    offset_s: float
    duration_s: float


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> MediaInfo:
    """What ``ffmpeg -i`` says about a file; :class:`InvalidInput` when it is not media."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
    )
    report = result.stderr
    container = _INPUT.search(report)
    if container is None:
        raise InvalidInput(f"{Path(path).name} is not a media file ffmpeg can read")
    streams = {kind: codec for kind, codec in reversed(_STREAM.findall(report))}
    return MediaInfo(
        duration_s=_duration(report),
        container=container.group(1),
        audio_codec=streams.get("Audio"),
        video_codec=streams.get("Video"),
    )


def _duration(report: str) -> float | None:
    match = _DURATION.search(report)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def check_upload(path: Path, max_mb: int) -> MediaInfo:
    """An uploaded file: a known type, within the size cap, with a sound track to transcribe."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"media file not found: {path.name}")
    suffix = path.suffix.lower().lstrip(".")
    if suffix in TRANSCRIPT_SUFFIXES:
        raise InvalidInput(
            f"{path.name} is a transcript, not a video or audio file; submit it as a transcript "
            "(the CLI's --transcript FILE, or the API's transcript field)"
        )
    if suffix not in MEDIA_SUFFIXES:
        raise InvalidInput(
            f"{path.name}: .{suffix or '?'} files are not supported; use one of {', '.join(sorted(MEDIA_SUFFIXES))}"
        )
    size_mb = path.stat().st_size / 1_000_000
    if size_mb > max_mb:
        raise InvalidInput(f"{path.name} is {size_mb:.0f} MB; uploads are limited to {max_mb} MB")
    info = probe(path)
    if not info.has_audio:
        raise InvalidInput(f"{path.name} has no sound track, so there is nothing to transcribe")
    return info


def extract_audio(
    source: Path, folder: Path, progress: ProgressFn | None = None, duration_s: float | None = None
) -> Path:
    """The 16 kHz mono WAV of ``source`` in ``folder``, made once and reused afterwards."""
    target = Path(folder) / AUDIO_FILENAME
    if target.is_file() and target.stat().st_size > 44:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part.wav")
    command = [ffmpeg_exe(), *_QUIET, "-y", "-i", str(source), *_TO_SPEECH_WAV, *_PROGRESS_TO_STDOUT, str(partial)]
    _run_with_progress(command, progress, duration_s)
    partial.replace(target)
    return target


def _run_with_progress(command: list[str], progress: ProgressFn | None, duration_s: float | None) -> None:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    for line in process.stdout:
        match = _PROGRESS.match(line.strip())
        if match and progress and duration_s:
            progress(min(1.0, int(match.group(1)) / 1e6 / duration_s))
    errors = process.stderr.read()
    if process.wait() != 0:
        raise StepError(ErrorCode.INVALID_INPUT, f"the sound track could not be read: {_last_line(errors)}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def split_audio(wav_path: Path, chunk_s: float, folder: Path) -> list[AudioChunk]:
    """Cut a WAV into consecutive chunks of ``chunk_s`` seconds (the last one shorter); each
    chunk knows its offset, so recognized times shift back to the whole file exactly."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chunks: list[AudioChunk] = []
    with wave.open(str(wav_path), "rb") as source:
        rate, frames_per_chunk = source.getframerate(), int(chunk_s * source.getframerate())
        params, offset = source.getparams(), 0
        while frames := source.readframes(frames_per_chunk):
            count = len(frames) // (params.sampwidth * params.nchannels)
            path = folder / f"chunk-{len(chunks):04d}.wav"
            _write_wav(path, params, frames)
            chunks.append(AudioChunk(path=path, offset_s=offset / rate, duration_s=count / rate))
            offset += count
    return chunks


def _write_wav(path: Path, params, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
