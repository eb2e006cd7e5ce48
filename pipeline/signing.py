"""Webhook signing secrets: one per workspace, derived when needed, never stored.

The worker must be able to sign, so the database cannot keep only a hash of the secret; it
must not keep the secret either (a copy of the file, a read-only SQL session or a backup would
hand it out). So a workspace row holds only a random **key id**, and the secret is derived:

    secret = "whsec_" + base64url(HMAC-SHA256(master key, workspace name + NUL + key id))

The **master key** comes from ``CLIPINSIGHT_SECRET_KEY`` (the environment or
``.streamlit/secrets.toml``), else from ``<data dir>/secret.key``: 32 random bytes made on first
use, readable by its owner only. Every process of one deployment shares the data dir and so the
key; a worker on another host needs ``CLIPINSIGHT_SECRET_KEY`` set to the same value.

- The database alone reveals no secret; the master key alone signs for no workspace.
- Rotating is a new key id: the old secret stops working with the next delivery.
- A secret is returned only when it is made (set a webhook, rotate) so the owner can copy it
  into their receiver; it is never logged, stored or shown again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pipeline.private import private_dir
from pipeline.settings import Settings

__all__ = ["new_key_id", "workspace_secret", "sign", "master_key"]

_KEY_FILE = "secret.key"
_KEY_BYTES = 32


def new_key_id() -> str:
    return secrets.token_urlsafe(16)


def workspace_secret(settings: Settings, workspace: str, key_id: str) -> str:
    """The signing secret of ``workspace`` under ``key_id``."""
    digest = hmac.new(master_key(settings), f"{workspace}\0{key_id}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(body: bytes, secret: str) -> str:
    """The ``X-ClipInsight-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def master_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    return _key_file(settings.data_dir / _KEY_FILE)


def _key_file(path: Path) -> bytes:
    """Read the key file, making it first if there is none. Made under another name and linked
    into place, so two processes starting together end up with the same key."""
    if not path.exists():
        private_dir(path.parent)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    return path.read_bytes()
