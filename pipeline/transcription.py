"""Which transcript a job gets from its media: captions the source already has, else speech
recognition — long media cut into chunks recognised in parallel and stitched back together.

(A transcript the creator provided comes first of all; the transcribe step takes it before
asking this module.)
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel

from pipeline import defaults
from pipeline.errors import InvalidInput
from pipeline.media import AudioChunk, split_audio, wav_duration
from pipeline.providers.base import Generation, ProgressFn, SpeechRecognizer, merge_provenance, weighted_mean
from pipeline.transcript import Segment, Transcript, parse_transcript

__all__ = [
    "Quality",
    "assess",
    "captions_transcript",
    "recognize",
    "transcribe_in_chunks",
    "stitch",
    "ChunkProgress",
]


class Quality(BaseModel):
    ok: bool
    reason: str = ""
    words: int
    coverage: float | None = None  # transcript duration / media duration
    confidence: float | None = None  # the recognizer's mean confidence, when a recognizer made it


def assess(transcript: Transcript, media_duration: float | None) -> Quality:
    """Good enough to build on, or the reason to ask the creator for a transcript."""
    words = transcript.word_count
    if words < defaults.MIN_TRANSCRIPT_WORDS:
        return Quality(ok=False, words=words, reason=f"the transcript has only {words} words; please provide one")
    coverage = None
    if media_duration and transcript.source != "provided":
        coverage = round(transcript.duration / media_duration, 3)
        if coverage < defaults.MIN_TRANSCRIPT_COVERAGE:
            return Quality(
                ok=False,
                words=words,
                coverage=coverage,
                reason=f"the transcript covers {coverage:.0%} of the media; please provide one",
            )
    confidence = transcript.confidence
    if confidence is not None and confidence < defaults.MIN_ASR_CONFIDENCE:
        return Quality(
            ok=False,
            words=words,
            coverage=coverage,
            confidence=confidence,
            reason=f"the speech recognizer was unsure of most words (confidence {confidence:.0%}); "
            "please provide a transcript",
        )
    return Quality(ok=True, words=words, coverage=coverage, confidence=confidence)


def captions_transcript(path: Path) -> Transcript:
    """Captions downloaded with the media, as a transcript; :class:`InvalidInput` if unreadable."""
    parsed = parse_transcript(Path(path).read_bytes(), Path(path).name)
    return parsed.model_copy(update={"segments": _without_rolling_repeats(parsed.segments), "source": "captions"})


def _without_rolling_repeats(segments: list[Segment]) -> list[Segment]:
    """Automatic captions repeat the previous line at the start of each cue (a "rolling" display);
    keep each line once."""
    kept: list[Segment] = []
    for segment in segments:
        previous = kept[-1].text if kept else ""
        text = segment.text
        if previous and text.startswith(previous):
            text = text[len(previous) :].strip()
        if text and text != previous:
            kept.append(segment.model_copy(update={"text": text}))
    return kept


def recognize(
    recognizer: SpeechRecognizer,
    wav_path: Path,
    progress: ProgressFn | None = None,
    *,
    chunk_after_s: float = defaults.ASR_CHUNK_AFTER_S,
    chunk_s: float = defaults.ASR_CHUNK_S,
    parallel: int = defaults.ASR_PARALLEL_CHUNKS,
) -> Generation[Transcript]:
    """One recognizer call for short audio; parallel chunks for audio longer than ``chunk_after_s``."""
    if wav_duration(wav_path) <= chunk_after_s:
        return recognizer.transcribe(wav_path, progress)
    folder = Path(wav_path).parent / "chunks"
    return transcribe_in_chunks(recognizer, split_audio(wav_path, chunk_s, folder), progress, parallel=parallel)


class ChunkProgress:
    """Progress over many chunks recognised at once: the mean of each chunk's own fraction."""

    def __init__(self, chunks: list[AudioChunk], report: ProgressFn | None):
        self._done = [0.0] * len(chunks)
        self._weights = [chunk.duration_s for chunk in chunks]
        self._report = report
        self._lock = threading.Lock()

    def for_chunk(self, index: int) -> ProgressFn:
        def update(fraction: float) -> None:
            with self._lock:
                self._done[index] = max(self._done[index], min(fraction, 1.0))
                overall = sum(d * w for d, w in zip(self._done, self._weights, strict=True)) / (sum(self._weights) or 1)
            if self._report:
                self._report(overall)

        return update


def transcribe_in_chunks(
    recognizer: SpeechRecognizer,
    chunks: list[AudioChunk],
    progress: ProgressFn | None = None,
    *,
    parallel: int = defaults.ASR_PARALLEL_CHUNKS,
) -> Generation[Transcript]:
    if not chunks:
        raise InvalidInput("the sound track is empty; there is nothing to transcribe")
    tracker = ChunkProgress(chunks, progress)

    def one(index: int) -> Generation[Transcript]:
        result = recognizer.transcribe(chunks[index].path, tracker.for_chunk(index))
        tracker.for_chunk(index)(1.0)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(chunks))), thread_name_prefix="asr-chunk") as pool:
        results = list(pool.map(one, range(len(chunks))))
    return Generation(stitch([r.value for r in results], chunks), merge_provenance([r.provenance for r in results]))


def stitch(parts: list[Transcript], chunks: list[AudioChunk]) -> Transcript:
    """One transcript from per-chunk transcripts: times shifted by each chunk's offset and kept
    inside the chunk, so segments stay in order across the seams."""
    segments: list[Segment] = []
    for part, chunk in zip(parts, chunks, strict=True):
        end_of_chunk = chunk.offset_s + chunk.duration_s
        for segment in part.segments:
            start = min(chunk.offset_s + segment.start, end_of_chunk)
            end = min(chunk.offset_s + segment.end, end_of_chunk)
            segments.append(segment.model_copy(update={"start": round(start, 3), "end": round(max(end, start), 3)}))
    language = next((p.language for p in parts if p.segments), parts[0].language if parts else "en")
    source = parts[0].source if parts else "asr"
    return Transcript(segments=segments, language=language, source=source, confidence=_confidence(parts, chunks))


def _confidence(parts: list[Transcript], chunks: list[AudioChunk]) -> float | None:
    pairs = zip(parts, chunks, strict=True)
    return weighted_mean([(part.confidence, chunk.duration_s) for part, chunk in pairs if part.confidence is not None])
