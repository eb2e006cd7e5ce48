"""Provider selection. ``CLIPINSIGHT_PROVIDER`` = ``auto`` (Gemini when ``GEMINI_API_KEY`` is
set, offline otherwise), ``local``, ``gemini``, ``openai`` (any OpenAI-compatible server), or
``package.module:factory`` for a custom one."""

from __future__ import annotations

import importlib
from functools import lru_cache

from pipeline.providers.base import (
    ASR,
    DRAFTS,
    INSIGHTS,
    INSTRUCTIONS,
    JUDGE,
    ContentProvider,
    Generation,
    SpeechRecognizer,
)
from pipeline.settings import Settings

__all__ = [
    "ASR",
    "DRAFTS",
    "INSIGHTS",
    "INSTRUCTIONS",
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
    choice = settings.content_provider
    if choice == "local":
        from pipeline.providers.local import LocalContentProvider

        return LocalContentProvider()
    if choice == "gemini":
        from pipeline.providers.gemini import GeminiContentProvider

        return GeminiContentProvider(settings)
    if choice == "openai":
        from pipeline.providers.openai_compat import OpenAIContentProvider

        return OpenAIContentProvider(settings)
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
    choice = settings.content_provider
    if choice == "local":
        return "offline (extractive drafts; set GEMINI_API_KEY, or CLIPINSIGHT_PROVIDER=openai, to use an LLM)"
    if choice == "gemini":
        return f"Gemini ({settings.gemini_model})"
    if choice == "openai":
        return f"OpenAI-compatible ({settings.openai_model} at {settings.openai_base_url or 'api.openai.com'})"
    return f"custom provider {settings.provider}"
