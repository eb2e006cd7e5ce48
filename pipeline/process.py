"""What one process caches for the configured data dir, and how to forget it.

Settings, Redis clients, stores and providers are cached per process (a worker loads its model
once). Code that points one process at another data dir — tests, benchmarks — calls
:func:`forget_cached_state` after changing the environment.
"""

from __future__ import annotations

__all__ = ["forget_cached_state"]


def forget_cached_state() -> None:
    from pipeline import providers, queue, store
    from pipeline.settings import reset_settings

    reset_settings()
    queue._clients.clear()
    store._stores.clear()
    providers.content_provider.cache_clear()
    providers.speech_recognizer.cache_clear()
