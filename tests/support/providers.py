"""Content providers for tests, loaded by real workers through ``CLIPINSIGHT_PROVIDER``.

They wrap the real offline provider and add what a remote service does to us: slowness and
failures. State that must survive a worker (how many calls failed) lives in a file in the data dir.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.errors import ErrorCode, StepError
from pipeline.providers.local import LocalContentProvider


class _Wrapped(LocalContentProvider):
    def __init__(self, settings):
        super().__init__()
        self.settings = settings


def _counter(settings, name: str) -> int:
    """Increment and return a counter kept in the data dir (shared by all workers)."""
    path = Path(settings.data_dir) / f"counter-{name}"
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    return count


class FlakyInsights(_Wrapped):
    """The first insights call fails with a retryable error; the next ones work."""

    def insights(self, transcript, options, **kwargs):
        if _counter(self.settings, "insights") == 1:
            raise StepError(ErrorCode.GENERATION_FAILED, "the model returned an empty answer")
        return super().insights(transcript, options, **kwargs)


class RevokedKey(_Wrapped):
    """Every insights call fails as a revoked API key does: not retryable."""

    def insights(self, transcript, options, **kwargs):
        _counter(self.settings, "insights")
        raise StepError(ErrorCode.API_KEY_INVALID, "the API key was rejected (401)")


class Slow(_Wrapped):
    """Each call takes CLIPINSIGHT_TEST_LLM_DELAY seconds (default 1), like a remote model."""

    def _pause(self) -> None:
        time.sleep(float(os.environ.get("CLIPINSIGHT_TEST_LLM_DELAY", "1")))

    def insights(self, transcript, options, **kwargs):
        self._pause()
        return super().insights(transcript, options, **kwargs)

    def draft(self, fmt, transcript, insights, options, **kwargs):
        self._pause()
        return super().draft(fmt, transcript, insights, options, **kwargs)


def flaky(settings):
    return FlakyInsights(settings)


def revoked(settings):
    return RevokedKey(settings)


def slow(settings):
    return Slow(settings)
