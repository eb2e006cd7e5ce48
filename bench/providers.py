"""Providers for benchmarks: the real offline provider with a fixed latency per LLM call,
set by CLIPINSIGHT_BENCH_LLM_S, standing in for a remote model."""

from __future__ import annotations

import os
import time

from pipeline.providers.local import LocalContentProvider


class FixedLatency(LocalContentProvider):
    def __init__(self, settings):
        super().__init__()
        self.delay = float(os.environ.get("CLIPINSIGHT_BENCH_LLM_S", "1"))

    def insights(self, *args, **kwargs):
        time.sleep(self.delay)
        return super().insights(*args, **kwargs)

    def draft(self, *args, **kwargs):
        time.sleep(self.delay)
        return super().draft(*args, **kwargs)


def fixed_latency(settings):
    return FixedLatency(settings)
