"""Speech recognition: the offline model on the sample video, chunked parallel recognition, and
the quality gate that sends unusable transcripts back to the creator."""

from __future__ import annotations

import dataclasses
import threading
import wave
from pathlib import Path

import pytest

from bench.wer import word_error_rate
from pipeline import media
from pipeline.errors import StepError
from pipeline.models import Provenance
from pipeline.providers import speech_recognizer
from pipeline.providers.base import Generation
from pipeline.providers.whisper import HUB_MODEL, WhisperSpeechRecognizer, model_reference
from pipeline.steps.transcribe import assess
from pipeline.transcript import Segment, Transcript
from pipeline.transcription import recognize, stitch, transcribe_in_chunks
from tests.support.gemini_server import SCRIPT, GeminiServer
from tests.support.media_server import SAMPLE_TEXT, SAMPLE_VIDEO


@pytest.fixture(scope="module")
def sample_audio(tmp_path_factory) -> Path:
    return media.extract_audio(SAMPLE_VIDEO, tmp_path_factory.mktemp("audio"))


@pytest.fixture(scope="module")
def whisper() -> WhisperSpeechRecognizer:
    return WhisperSpeechRecognizer()


def test_the_offline_default_is_the_bundled_model():
    reference = model_reference(None)
    assert Path(reference, "model.bin").is_file()
    assert WhisperSpeechRecognizer().model == "tiny.en"
    assert model_reference("small.en") == "small.en"
    assert HUB_MODEL == "tiny.en"


def test_offline_asr_transcribes_the_sample_within_25_percent_wer(whisper, sample_audio):
    progress: list[float] = []
    generation = whisper.transcribe(sample_audio, progress.append)
    transcript = generation.value
    wer = word_error_rate(SAMPLE_TEXT.read_text(), transcript.text)
    assert wer <= 0.25, f"WER {wer:.0%}: {transcript.text}"
    assert transcript.source == "asr"
    assert transcript.language == "en"
    assert transcript.segments[0].start < 2
    assert transcript.duration == pytest.approx(media.wav_duration(sample_audio), abs=3)
    assert progress and progress == sorted(progress) and progress[-1] == pytest.approx(1.0, abs=0.1)
    assert generation.provenance.provider == "whisper" and generation.provenance.model == "tiny.en"
    assert assess(transcript, media.wav_duration(sample_audio)).ok


def test_the_settings_choose_whisper_offline(settings):
    recognizer = speech_recognizer(settings)
    assert isinstance(recognizer, WhisperSpeechRecognizer)


def test_a_missing_model_fails_with_a_fix():
    recognizer = WhisperSpeechRecognizer(reference="/nonexistent/model-folder")
    with pytest.raises(StepError, match="CLIPINSIGHT_WHISPER_MODEL"):
        recognizer.transcribe(Path("/nonexistent.wav"))


def test_chunked_recognition_stitches_times_back_in_place(whisper, sample_audio, tmp_path):
    whole = whisper.transcribe(sample_audio).value
    chunks = media.split_audio(sample_audio, 12, tmp_path)
    progress: list[float] = []
    stitched = transcribe_in_chunks(whisper, chunks, progress.append, parallel=2).value
    assert word_error_rate(SAMPLE_TEXT.read_text(), stitched.text) <= 0.25
    starts = [s.start for s in stitched.segments]
    assert starts == sorted(starts)
    assert stitched.duration == pytest.approx(whole.duration, abs=3)
    assert any(s.start >= 24 for s in stitched.segments)  # text from the third chunk sits after 24 s
    assert progress[-1] == pytest.approx(1.0)


class _Recorder:
    """A recognizer that says which file it heard, so stitching can be checked exactly."""

    name, model, capabilities = "recorder", "v1", frozenset({"asr"})

    def __init__(self, in_flight: int = 2):
        self.threads: set[str] = set()
        self.barrier = threading.Barrier(in_flight, timeout=10)

    def transcribe(self, audio_path, progress=None):
        self.threads.add(threading.current_thread().name)
        self.barrier.wait()  # two chunks must be in flight at once
        length = media.wav_duration(audio_path)
        if progress:
            progress(0.5)
        segments = [
            Segment(start=0.0, end=length / 2, text=f"{Path(audio_path).stem} first half"),
            Segment(start=length / 2, end=length, text=f"{Path(audio_path).stem} second half"),
        ]
        return Generation(
            Transcript(segments=segments, source="asr", confidence=0.8),
            Provenance(provider="recorder", model="v1", latency_ms=10),
        )


def test_long_audio_is_split_and_recognised_in_parallel(sample_audio):
    recorder = _Recorder()
    generation = recognize(recorder, sample_audio, chunk_after_s=15, chunk_s=10, parallel=2)
    transcript = generation.value
    assert len(recorder.threads) == 2
    assert [s.text for s in transcript.segments[:3]] == [
        "chunk-0000 first half",
        "chunk-0000 second half",
        "chunk-0001 first half",
    ]
    assert [s.start for s in transcript.segments[:4]] == [0.0, 5.0, 10.0, 15.0]
    assert transcript.duration == pytest.approx(media.wav_duration(sample_audio), abs=0.01)
    assert transcript.confidence == 0.8
    assert generation.provenance.latency_ms == 10 * len(transcript.segments) / 2


def test_short_audio_is_one_call(sample_audio):
    transcript = recognize(_Recorder(in_flight=1), sample_audio, chunk_after_s=60).value
    assert [s.text for s in transcript.segments] == ["audio-16k first half", "audio-16k second half"]


def test_stitching_keeps_segments_inside_their_chunk():
    chunks = [media.AudioChunk(Path("a.wav"), 0.0, 10.0), media.AudioChunk(Path("b.wav"), 10.0, 5.0)]
    parts = [
        Transcript(segments=[Segment(start=9.0, end=11.0, text="runs over")], source="asr"),
        Transcript(segments=[Segment(start=1.0, end=2.0, text="later")], source="asr"),
    ]
    stitched = stitch(parts, chunks)
    assert [(s.start, s.end) for s in stitched.segments] == [(9.0, 10.0), (11.0, 12.0)]


def _transcript(words: int, seconds: float, confidence: float | None = None) -> Transcript:
    text = " ".join(["word"] * words)
    return Transcript(segments=[Segment(start=0, end=seconds, text=text)], source="asr", confidence=confidence)


def test_the_quality_gate():
    assert not assess(_transcript(0, 0), 60).ok
    assert "only 5 words" in assess(_transcript(5, 60), 60).reason
    assert "covers 25%" in assess(_transcript(100, 15), 60).reason
    low = assess(_transcript(100, 60, confidence=0.2), 60)
    assert not low.ok and "unsure" in low.reason and low.confidence == 0.2
    assert assess(_transcript(100, 58, confidence=0.8), 60).ok


# --- Gemini ASR against the local Gemini server ----------------------------------------------


def _quiet_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(media.SAMPLE_RATE)
        out.writeframes(b"\x00\x00" * int(seconds * media.SAMPLE_RATE))
    return path


def test_gemini_asr_transcribes_a_long_file_in_parallel_chunks(settings, tmp_path):
    """16 minutes of audio: two chunks (10 min + 6 min), each uploaded through the Files API,
    polled until ACTIVE and transcribed; the server "hears" its 52 s script in every chunk."""
    audio = _quiet_wav(tmp_path / "audio-16k.wav", 16 * 60)
    progress: list[float] = []
    with GeminiServer() as server:
        gemini = dataclasses.replace(
            settings, gemini_api_key="test-key", gemini_base_url=server.base_url, gemini_rpm=1000
        )
        recognizer = speech_recognizer(gemini)
        generation = recognize(recognizer, audio, progress.append)
        requests = list(server.requests)
        stored = list(server.files.values())
    assert recognizer.name == "gemini"
    starts = [
        i
        for i, r in enumerate(requests)
        if r.path.startswith("/upload/") and r.method == "POST" and r.headers.get("x-goog-upload-command") == "start"
    ]
    generates = [i for i, r in enumerate(requests) if r.path.endswith(":generateContent")]
    assert len(starts) == len(generates) == 2
    assert starts[1] < generates[0]  # the second chunk was on its way before the first was answered
    assert sorted(round(f.duration_s) for f in stored) == [360, 600]
    assert all(f.deleted for f in stored)

    transcript = generation.value
    assert transcript.source == "gemini"
    expected = [(a, b, t) for a, b, t in SCRIPT] + [(a + 600, b + 600, t) for a, b, t in SCRIPT]
    assert [s.text for s in transcript.segments] == [t for _, _, t in expected]
    assert [(s.start, s.end) for s in transcript.segments] == [pytest.approx((a, b)) for a, b, _ in expected]
    assert progress[-1] == pytest.approx(1.0)
    assert generation.provenance.provider == "gemini" and generation.provenance.tokens_in > 2 * 600 * 32 * 0.6
