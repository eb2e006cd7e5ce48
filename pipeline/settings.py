"""Settings: a small value object read from the environment (and ``.streamlit/secrets.toml``
for secrets). Every default is named in ``pipeline.defaults``.

Secrets are held in fields that never print (``repr=False``) and are never written anywhere.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline import defaults

__all__ = ["Settings", "get_settings", "reset_settings"]

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in _TRUE


def _optional(value: str | None, kind: type):
    return None if value is None or value.strip() == "" else kind(value)


def _secrets_file() -> Path:
    """``.streamlit/secrets.toml`` in the working dir, or the file CLIPINSIGHT_SECRETS_FILE names
    (``up`` hands the same file to Streamlit, so the UI and the package read one file)."""
    return Path(os.environ.get("CLIPINSIGHT_SECRETS_FILE") or Path(".streamlit") / "secrets.toml").resolve()


def _secrets() -> dict:
    path = _secrets_file()
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError):
        return {}


def _secret(name: str) -> str | None:
    """A secret from the environment, else from the secrets file."""
    value = os.environ.get(name) or _secrets().get(name)
    return str(value) if value else None


def _login_configured() -> bool:
    """Whether the secrets file configures Streamlit's login (``[auth]`` with a redirect URI, a
    cookie secret and at least one OpenID Connect provider), as Streamlit documents it."""
    auth = _secrets().get("auth")
    if not isinstance(auth, dict) or not {"redirect_uri", "cookie_secret"} <= set(auth):
        return False
    providers = [auth, *(value for value in auth.values() if isinstance(value, dict))]
    return any({"client_id", "client_secret", "server_metadata_url"} <= set(p) for p in providers)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    redis_url: str | None = None
    provider: str = "auto"  # auto | local | gemini | openai | dotted.path:factory
    asr_provider: str = "auto"
    gemini_api_key: str | None = field(default=None, repr=False)
    gemini_base_url: str | None = None
    gemini_model: str = defaults.GEMINI_MODEL
    gemini_timeout_s: float = defaults.GEMINI_TIMEOUT_S
    gemini_temperature: float | None = None  # None: each prompt file's own temperature
    gemini_thinking_budget: int | None = None  # None: each prompt file's own budget
    gemini_rpm: int = defaults.GEMINI_RPM
    gemini_tpm: int = defaults.GEMINI_TPM
    gemini_rate_wait_s: float = defaults.GEMINI_RATE_WAIT_S
    #: Master key that per-workspace webhook signing secrets derive from (pipeline.signing).
    secret_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None  # None: api.openai.com; Ollama: http://localhost:11434/v1
    openai_api_key: str | None = field(default=None, repr=False)
    openai_model: str = defaults.OPENAI_MODEL
    openai_timeout_s: float = defaults.OPENAI_TIMEOUT_S
    openai_structured: str = "auto"  # auto | json_schema | json_object | none
    openai_rpm: int = defaults.OPENAI_RPM
    openai_tpm: int = defaults.OPENAI_TPM
    call_retry_initial_s: float = defaults.CALL_RETRY_INITIAL_S
    allow_private_urls: bool = False
    allow_direct_media: bool = True
    max_upload_mb: int = 500
    whisper_model: str | None = None
    #: ``module:NAME`` of another pipeline table (tests add a stage or slow a step); None: the default.
    pipeline: str | None = None
    qa_threshold: int = defaults.QA_THRESHOLD
    store_lock_timeout_s: float = defaults.STORE_LOCK_TIMEOUT_S
    #: ``grpc+tcp://host:port`` of a storekeeper on another machine; None: the local one (its
    #: unix socket in the data dir) when ``up`` runs, else the DuckDB file itself.
    store_url: str | None = None
    store_token: str | None = field(default=None, repr=False)
    store_wait_s: float = defaults.STORE_WAIT_S
    #: The secrets file (``.streamlit/secrets.toml``) and whether it configures the login.
    secrets_file: Path = Path(".streamlit/secrets.toml")
    login_configured: bool = False
    #: Set for the UI and API processes: every operation there must name its caller (a missing
    #: one is a bug, refused, instead of the local administrator that the CLI and notebooks are).
    require_caller: bool = False
    #: Requests per minute one API key may make.
    api_rate_limit: int = defaults.API_RATE_LIMIT_PER_MIN

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            data_dir=Path(env("CLIPINSIGHT_DATA_DIR") or defaults.DATA_DIR).resolve(),
            redis_url=env("REDIS_URL") or None,
            provider=env("CLIPINSIGHT_PROVIDER") or "auto",
            asr_provider=env("CLIPINSIGHT_ASR_PROVIDER") or "auto",
            gemini_api_key=_secret("GEMINI_API_KEY"),
            gemini_base_url=env("GEMINI_BASE_URL") or None,
            gemini_model=env("GEMINI_MODEL") or defaults.GEMINI_MODEL,
            gemini_timeout_s=float(env("GEMINI_TIMEOUT_S") or defaults.GEMINI_TIMEOUT_S),
            gemini_temperature=_optional(env("GEMINI_TEMPERATURE"), float),
            gemini_thinking_budget=_optional(env("GEMINI_THINKING_BUDGET"), int),
            gemini_rpm=int(env("GEMINI_RPM") or defaults.GEMINI_RPM),
            gemini_tpm=int(env("GEMINI_TPM") or defaults.GEMINI_TPM),
            gemini_rate_wait_s=float(env("GEMINI_RATE_WAIT_S") or defaults.GEMINI_RATE_WAIT_S),
            secret_key=_secret("CLIPINSIGHT_SECRET_KEY"),
            openai_base_url=env("OPENAI_BASE_URL") or None,
            openai_api_key=_secret("OPENAI_API_KEY"),
            openai_model=env("OPENAI_MODEL") or defaults.OPENAI_MODEL,
            openai_timeout_s=float(env("OPENAI_TIMEOUT_S") or defaults.OPENAI_TIMEOUT_S),
            openai_structured=env("OPENAI_STRUCTURED_OUTPUT") or "auto",
            openai_rpm=int(env("OPENAI_RPM") or defaults.OPENAI_RPM),
            openai_tpm=int(env("OPENAI_TPM") or defaults.OPENAI_TPM),
            call_retry_initial_s=float(env("CLIPINSIGHT_CALL_RETRY_INITIAL_S") or defaults.CALL_RETRY_INITIAL_S),
            allow_private_urls=_flag("CLIPINSIGHT_ALLOW_PRIVATE_URLS", False),
            allow_direct_media=_flag("CLIPINSIGHT_ALLOW_DIRECT_MEDIA", True),
            max_upload_mb=int(env("CLIPINSIGHT_MAX_UPLOAD_MB") or 500),
            whisper_model=env("CLIPINSIGHT_WHISPER_MODEL") or None,
            pipeline=env("CLIPINSIGHT_PIPELINE") or None,
            qa_threshold=int(env("CLIPINSIGHT_QA_THRESHOLD") or defaults.QA_THRESHOLD),
            store_lock_timeout_s=float(env("CLIPINSIGHT_STORE_LOCK_TIMEOUT") or defaults.STORE_LOCK_TIMEOUT_S),
            store_url=env("CLIPINSIGHT_STORE_URL") or None,
            store_token=_secret("CLIPINSIGHT_STORE_TOKEN"),
            store_wait_s=float(env("CLIPINSIGHT_STORE_WAIT_S") or defaults.STORE_WAIT_S),
            secrets_file=_secrets_file(),
            login_configured=_login_configured(),
            require_caller=_flag("CLIPINSIGHT_REQUIRE_CALLER", False),
            api_rate_limit=int(env("CLIPINSIGHT_API_RATE_LIMIT") or defaults.API_RATE_LIMIT_PER_MIN),
        )

    # --- Paths under the data dir ---
    @property
    def db_path(self) -> Path:
        return self.data_dir / defaults.DATABASE_FILENAME

    @property
    def store_marker(self) -> Path:
        return self.data_dir / defaults.STORE_MARKER

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def content_provider(self) -> str:
        """The content provider that runs: ``auto`` resolved (Gemini with a key, else offline)."""
        if self.provider == "auto":
            return "gemini" if self.gemini_api_key else "local"
        return self.provider

    @property
    def uses_gemini(self) -> bool:
        return self.content_provider == "gemini"

    @property
    def offline(self) -> bool:
        """No paid model makes content (the offline provider)."""
        return self.content_provider == "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
