"""Login for tests: the ``[auth]`` section Streamlit documents for ``.streamlit/secrets.toml``, and
a real OpenID Connect provider running locally (``oidc-provider-mock``: authorization code flow,
discovery, JWKS, signed ID tokens) that signs in whoever's email is typed on its page."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["write_login_secrets", "oidc_provider"]


def write_login_secrets(directory: Path, *, issuer: str = "http://localhost:9", ui_url: str = "") -> Path:
    """``directory/.streamlit/secrets.toml`` with a login through ``issuer`` for the UI at
    ``ui_url``; returns its path."""
    path = Path(directory) / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{ui_url or "http://localhost:8501"}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "clipinsight"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return path


@contextmanager
def oidc_provider() -> Iterator[str]:
    """A local OpenID Connect provider on a free port; yields its issuer URL."""
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"
