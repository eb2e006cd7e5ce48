"""Provider selection. ``CLIPINSIGHT_PROVIDER`` = ``auto`` (Gemini when ``GEMINI_API_KEY`` is
set, offline otherwise), ``local``, ``gemini``, or ``package.module:factory`` for a custom one."""

from __future__ import annotations

import importlib
from functools import lru_cache

from pipeline.providers.base import ASR, DRAFTS, INSIGHTS, JUDGE, ContentProvider, Generation, SpeechRecognizer
from pipeline.settings import Settings

__all__ = [
    "ASR",
    "DRAFTS",
    "INSIGHTS",
    "JUDGE",
    "ContentProvider",
    "Generation",
    "SpeechRecognizer",
    "content_provider",
    "speech_recognizer",
    "describe",
]


def _factory(dotted: str):
    module_name, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@lru_cache(maxsize=8)
def content_provider(settings: Settings) -> ContentProvider:
    choice = settings.provider
    if choice == "auto":
        choice = "gemini" if settings.gemini_api_key else "local"
    if choice == "local":
        from pipeline.providers.local import LocalContentProvider

        return LocalContentProvider()
    if choice == "gemini":
        from pipeline.providers.gemini import GeminiContentProvider

        return GeminiContentProvider(settings)
    return _factory(choice)(settings)


@lru_cache(maxsize=8)
def speech_recognizer(settings: Settings) -> SpeechRecognizer:
    """``CLIPINSIGHT_ASR_PROVIDER`` = ``auto`` (Gemini with a key, faster-whisper offline),
    ``gemini``, ``whisper`` or ``package.module:factory``. Cached: a model loads once per worker."""
    choice = settings.asr_provider
    if choice == "auto":
        choice = "gemini" if settings.gemini_api_key else "whisper"
    if choice == "gemini":
        from pipeline.providers.gemini import GeminiSpeechRecognizer

        return GeminiSpeechRecognizer(settings)
    if choice == "whisper":
        from pipeline.providers.whisper import WhisperSpeechRecognizer

        return WhisperSpeechRecognizer(settings)
    return _factory(choice)(settings)


def describe(settings: Settings) -> str:
    """One line for the UI and the CLI: which content provider runs, and whether it is offline."""
    if settings.provider == "local" or (settings.provider == "auto" and not settings.gemini_api_key):
        return "offline (local provider; set GEMINI_API_KEY to use Gemini)"
    if settings.uses_gemini:
        return f"Gemini ({settings.gemini_model})"
    return f"custom provider {settings.provider}"
