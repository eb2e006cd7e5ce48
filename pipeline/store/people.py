"""Users, memberships, invitations, API keys, refused attempts and Idempotency-Key records.

Emails are stored in lower case (callers normalise them first). An API key's secret is never
stored: only its sha256, looked up by equality, and the public ``key_id`` shown in lists.
"""

from __future__ import annotations

from pipeline.store import Database, transaction, utcnow

__all__ = [
    "sign_in_user",
    "has_signed_in",
    "roles_of",
    "members",
    "set_membership",
    "remove_membership",
    "owners",
    "invite",
    "invitations",
    "cancel_invitation",
    "accept_invitations",
    "create_key",
    "key_by_hash",
    "touch_key_by_hash",
    "list_keys",
    "revoke_key",
    "record_refusal",
    "refusals",
    "idempotent_request",
    "remember_request",
]


# --- Users and memberships -----------------------------------------------------------------


def sign_in_user(db: Database, email: str, name: str | None) -> None:
    """The user row, created at the first sign-in; every sign-in records when."""
    now = utcnow()
    db.execute(
        """INSERT INTO users (email, name, created_at, last_login_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (email) DO UPDATE SET last_login_at = excluded.last_login_at,
                                             name = coalesce(excluded.name, users.name)""",
        [email, name, now, now],
    )


def has_signed_in(db: Database, email: str) -> bool:
    return bool(db.scalar("SELECT count(*) FROM users WHERE email = ?", [email]))


def roles_of(db: Database, email: str) -> dict[str, str]:
    """workspace -> role, for every workspace the person is a member of."""
    rows = db.rows("SELECT workspace, role FROM memberships WHERE email = ?", [email])
    return {row["workspace"]: row["role"] for row in rows}


def members(db: Database, workspace: str) -> list[dict]:
    return db.rows(
        """SELECT m.email, m.role, m.added_by, m.created_at, u.last_login_at
           FROM memberships m LEFT JOIN users u ON u.email = m.email
           WHERE m.workspace = ? ORDER BY m.role = 'owner' DESC, m.email""",
        [workspace],
    )


def set_membership(db: Database, workspace: str, email: str, role: str, added_by: str) -> None:
    db.execute(
        """INSERT INTO memberships VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (workspace, email) DO UPDATE SET role = excluded.role""",
        [workspace, email, role, added_by, utcnow()],
    )


def remove_membership(db: Database, workspace: str, email: str) -> bool:
    found = db.scalar("SELECT count(*) FROM memberships WHERE workspace = ? AND email = ?", [workspace, email])
    db.execute("DELETE FROM memberships WHERE workspace = ? AND email = ?", [workspace, email])
    return bool(found)


def owners(db: Database, workspace: str) -> list[str]:
    rows = db.rows("SELECT email FROM memberships WHERE workspace = ? AND role = 'owner' ORDER BY email", [workspace])
    return [row["email"] for row in rows]


# --- Invitations ---------------------------------------------------------------------------


def invite(db: Database, workspace: str, email: str, role: str, invited_by: str) -> None:
    """A pending invitation (a repeat replaces the role and keeps it pending)."""
    db.execute(
        """INSERT INTO invitations VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (workspace, email) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by,
                                                       created_at = excluded.created_at, accepted_at = NULL""",
        [workspace, email, role, invited_by, utcnow()],
    )


def invitations(db: Database, workspace: str) -> list[dict]:
    """Invitations not yet taken up, newest first."""
    return db.rows(
        """SELECT email, role, invited_by, created_at FROM invitations
           WHERE workspace = ? AND accepted_at IS NULL ORDER BY created_at DESC""",
        [workspace],
    )


def cancel_invitation(db: Database, workspace: str, email: str) -> bool:
    found = db.scalar(
        "SELECT count(*) FROM invitations WHERE workspace = ? AND email = ? AND accepted_at IS NULL",
        [workspace, email],
    )
    db.execute("DELETE FROM invitations WHERE workspace = ? AND email = ? AND accepted_at IS NULL", [workspace, email])
    return bool(found)


def accept_invitations(db: Database, email: str) -> list[dict]:
    """Turn the person's pending invitations into memberships; returns what they joined."""
    pending = db.rows(
        "SELECT workspace, role, invited_by FROM invitations WHERE email = ? AND accepted_at IS NULL", [email]
    )
    for invitation in pending:
        set_membership(db, invitation["workspace"], email, invitation["role"], invitation["invited_by"])
    db.execute("UPDATE invitations SET accepted_at = ? WHERE email = ? AND accepted_at IS NULL", [utcnow(), email])
    return [{"workspace": row["workspace"], "role": row["role"]} for row in pending]


# --- API keys ------------------------------------------------------------------------------


def create_key(
    db: Database, *, key_id: str, workspace: str, role: str, name: str, secret_hash: str, created_by: str
) -> None:
    db.execute(
        """INSERT INTO api_keys (key_id, workspace, role, name, secret_hash, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [key_id, workspace, role, name, secret_hash, created_by, utcnow()],
    )


def key_by_hash(db: Database, secret_hash: str) -> dict | None:
    return db.row(
        """SELECT key_id, workspace, role, name, created_by, last_used_at, revoked_at
           FROM api_keys WHERE secret_hash = ?""",
        [secret_hash],
    )


@transaction
def touch_key_by_hash(db: Database, secret_hash: str) -> None:
    """When the key was last used (a revoked or unknown key is left as it is)."""
    db.execute(
        "UPDATE api_keys SET last_used_at = ? WHERE secret_hash = ? AND revoked_at IS NULL", [utcnow(), secret_hash]
    )


def list_keys(db: Database, workspace: str) -> list[dict]:
    """Every key of the workspace, live ones first; never the secret or its hash."""
    return db.rows(
        """SELECT key_id, name, role, created_by, created_at, last_used_at, revoked_at, revoked_by
           FROM api_keys WHERE workspace = ? ORDER BY revoked_at IS NOT NULL, created_at DESC""",
        [workspace],
    )


def revoke_key(db: Database, workspace: str, key_id: str, revoked_by: str) -> bool:
    """False when the workspace has no live key with that id."""
    live = db.scalar(
        "SELECT count(*) FROM api_keys WHERE workspace = ? AND key_id = ? AND revoked_at IS NULL", [workspace, key_id]
    )
    db.execute(
        "UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE workspace = ? AND key_id = ? AND revoked_at IS NULL",
        [utcnow(), revoked_by, workspace, key_id],
    )
    return bool(live)


# --- Refusals ------------------------------------------------------------------------------


@transaction
def record_refusal(db: Database, record: dict) -> None:
    db.execute(
        "INSERT INTO access_refusals (actor, action, workspace, job_id, reason, refused_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            record.get("actor") or "unknown",
            record.get("action") or "unknown",
            record.get("workspace"),
            record.get("job_id"),
            record.get("reason") or "",
            utcnow(),
        ],
    )


def refusals(db: Database, workspace: str | None = None, limit: int = 50) -> list[dict]:
    clause, params = ("WHERE workspace = ?", [workspace]) if workspace else ("", [])
    return db.rows(f"SELECT * FROM access_refusals {clause} ORDER BY id DESC LIMIT ?", [*params, limit])


# --- Idempotency-Key -----------------------------------------------------------------------


def idempotent_request(db: Database, workspace: str, key: str) -> dict | None:
    return db.row(
        "SELECT request_hash, job_id FROM idempotency_keys WHERE workspace = ? AND idempotency_key = ?",
        [workspace, key],
    )


def remember_request(db: Database, workspace: str, key: str, request_hash: str, job_id: str) -> None:
    db.execute("INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)", [workspace, key, request_hash, job_id, utcnow()])
