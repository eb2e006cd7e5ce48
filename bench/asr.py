"""Media and ASR benchmarks. ``python -m bench.asr``

- offline ASR on the speech sample (faster-whisper, the bundled tiny.en, int8 on CPU): model
  load time, real-time factor (recognition time / audio length, median of 3 runs) and word
  error rate against the reference text; the same through the chunked parallel path;
- download size of the sample through yt-dlp from a local HLS server offering a video variant
  and an audio-only one: what the product downloads (smallest audio-only) versus the full video.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.wer import word_error_rate
from pipeline import media
from pipeline.download import AUDIO_FORMAT, Downloader
from pipeline.providers import whisper
from pipeline.transcription import transcribe_in_chunks
from pipeline.urlguard import ConnectionGuard
from tests.support.media_server import SAMPLE_TEXT, SAMPLE_VIDEO, MediaServer

RUNS = 3


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def offline_asr(folder: Path) -> None:
    audio, extract_s = _timed(media.extract_audio, SAMPLE_VIDEO, folder)
    seconds = media.wav_duration(audio)
    recognizer = whisper.WhisperSpeechRecognizer()
    _, load_s = _timed(whisper._load, recognizer.reference)
    timings, text = [], ""
    for _ in range(RUNS):
        generation, elapsed = _timed(recognizer.transcribe, audio)
        timings.append(elapsed)
        text = generation.value.text
    median = statistics.median(timings)
    print(f"sample: {seconds:.1f} s of speech, {os.cpu_count()} CPU cores, model {recognizer.model} (int8)")
    print(f"audio extraction (16 kHz mono WAV): {extract_s:.2f} s; model load: {load_s:.2f} s")
    print(f"offline ASR: {median:.2f} s median of {RUNS} -> RTF {median / seconds:.3f} (target <= 0.1)")
    print(f"WER: {word_error_rate(SAMPLE_TEXT.read_text(), text):.1%} (target <= 15%)")
    print(f"heard: {text}")
    chunked(recognizer, audio, seconds, folder)


def chunked(recognizer, audio: Path, seconds: float, folder: Path) -> None:
    chunks = media.split_audio(audio, 10, folder / "chunks")
    generation, elapsed = _timed(transcribe_in_chunks, recognizer, chunks, parallel=2)
    wer = word_error_rate(SAMPLE_TEXT.read_text(), generation.value.text)
    print(
        f"chunked path ({len(chunks)} chunks of 10 s, 2 threads): {elapsed:.2f} s -> RTF {elapsed / seconds:.3f}, "
        f"WER {wer:.1%}"
    )


def download_sizes(folder: Path) -> None:
    with MediaServer() as server:
        master = server.add_hls()
        audio_bytes = _download(server, master, AUDIO_FORMAT, folder / "audio")
        video_bytes = _download(server, master, "b", folder / "video")
    print(
        f"download (HLS, yt-dlp): audio-only {audio_bytes / 1024:.0f} KiB vs full video {video_bytes / 1024:.0f} KiB "
        f"({audio_bytes / video_bytes:.0%}); the sample file itself is {SAMPLE_VIDEO.stat().st_size / 1024:.0f} KiB"
    )


def _download(server: MediaServer, url: str, audio_format: str, folder: Path) -> int:
    before = sum(server.bytes_sent.values())
    downloader = Downloader(folder, ConnectionGuard(allow_private=True), audio_format=audio_format)
    downloader.fetch(downloader.metadata(url))
    return sum(server.bytes_sent.values()) - before


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        offline_asr(Path(tmp))
        download_sizes(Path(tmp))


if __name__ == "__main__":
    main()
