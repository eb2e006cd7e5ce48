"""Media sources (YouTube, direct links, uploads): checked, ingested and transcribed.

Until media ingest lands, only provided transcripts are accepted; everything else is refused
with a message that says what works today.
"""

from __future__ import annotations

from pipeline.errors import ErrorCode, InvalidInput, StepError

__all__ = ["classify", "fingerprint", "check_source", "ingest", "transcribe"]

_NOT_YET = "media links and uploads are not supported yet; submit a transcript (.srt, .vtt or .txt) instead"


def classify(source: str, settings) -> tuple[str, str]:
    """(kind, normalised source) for a URL or a local media path."""
    raise InvalidInput(_NOT_YET)


def fingerprint(kind: str, source: str) -> str:
    return f"{kind}:{source}"


def check_source(kind: str, source: str, settings) -> None:
    raise StepError(ErrorCode.INVALID_INPUT, _NOT_YET)


def ingest(ctx, job):
    raise StepError(ErrorCode.INVALID_INPUT, _NOT_YET)


def transcribe(ctx, source):
    raise StepError(ErrorCode.INVALID_INPUT, _NOT_YET)
