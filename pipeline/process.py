"""What one process caches for the configured data dir, and how to forget it.

Settings, Redis clients, stores and providers are cached per process (a worker loads its model
once). Code that points one process at another data dir — tests, benchmarks — calls
:func:`forget_cached_state` after changing the environment.
"""

from __future__ import annotations

from pipeline import providers, redis_server, stages, steps, store
from pipeline.settings import reset_settings

__all__ = ["forget_cached_state"]


def forget_cached_state() -> None:
    reset_settings()
    redis_server._clients.clear()
    stages.load_pipeline.cache_clear()
    steps.registry_for.cache_clear()
    store.forget_stores()
    providers.content_provider.cache_clear()
    providers.speech_recognizer.cache_clear()
