"""Who belongs where: signing in, members and invitations, API keys, and the refusals log.

Owners manage their workspace's members and keys; the local administrator (CLI) manages every
workspace's. Invariants:

- A first sign-in with an invited email joins the workspaces it was invited to; inviting
  someone who has signed in before makes them a member at once.
- A workspace that has owners keeps at least one: its last owner cannot be removed or demoted.
- An API key's secret is returned once, by :func:`create_key`, and stored only as a hash; a
  revoked key is refused from the next request on (every request looks the key up).
"""

from __future__ import annotations

import secrets

from pipeline import access
from pipeline.access import Action, Caller, Role, hash_key, normalize_email, require, resolve
from pipeline.errors import Conflict, InvalidInput, NotFound
from pipeline.settings import Settings
from pipeline.store import Database, transaction
from pipeline.store import people as people_rows
from pipeline.store import usage as usage_rows

__all__ = [
    "sign_in",
    "members",
    "invite",
    "set_role",
    "remove_member",
    "cancel_invitation",
    "create_key",
    "list_keys",
    "revoke_key",
    "refusals",
    "role_of",
]

KEY_PREFIX = "cik"


def _role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"no role named {value!r}; roles are {', '.join(r.value for r in Role)}") from None


def _email(value: str) -> str:
    email = normalize_email(value)
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise InvalidInput(f"{value!r} is not an email address")
    return email


# --- Signing in ----------------------------------------------------------------------------


def sign_in(email: str, name: str | None = None, *, settings: Settings | None = None) -> dict:
    """Record a sign-in and join the workspaces the email was invited to. Returns the person's
    email, what they joined now, and their role in each workspace."""
    caller = Caller.person(_email(email))
    return access.run(_sign_in, caller, name, settings=settings)


@transaction
def _sign_in(db: Database, caller: Caller, name: str | None) -> dict:
    people_rows.sign_in_user(db, caller.name, name)
    joined = people_rows.accept_invitations(db, caller.name)
    return {"email": caller.name, "joined": joined, "roles": people_rows.roles_of(db, caller.name)}


def role_of(workspace: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str | None:
    """The caller's role in the workspace (``owner`` for the administrator), None if not a member."""
    return access.run(_role_of, caller, workspace, settings=settings)


@transaction(writes=False)
def _role_of(db: Database, caller: Caller, workspace: str) -> str | None:
    role = resolve(db, caller).role_in(workspace)
    return role.value if role else None


# --- Members and invitations ----------------------------------------------------------------


def members(workspace: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """The members of the workspace with their roles and last sign-in, and pending invitations."""
    return access.run(_members, caller, workspace, settings=settings)


@transaction(writes=False)
def _members(db: Database, caller: Caller, workspace: str) -> dict:
    require(resolve(db, caller), Action.MANAGE_MEMBERS, workspace)
    return {"members": people_rows.members(db, workspace), "invitations": people_rows.invitations(db, workspace)}


def invite(
    workspace: str,
    email: str,
    role: str | Role = Role.CREATOR,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """Invite ``email`` with ``role``; someone who has signed in before becomes a member at once."""
    return access.run(_invite, caller, workspace, _email(email), _role(role).value, settings=settings)


@transaction
def _invite(db: Database, caller: Caller, workspace: str, email: str, role: str) -> dict:
    who = resolve(db, caller)
    require(who, Action.MANAGE_MEMBERS, workspace)
    usage_rows.get_workspace(db, workspace)  # an unknown name is NotFound, not a new workspace
    _keep_an_owner(db, workspace, email, Role(role))
    if people_rows.has_signed_in(db, email):
        people_rows.set_membership(db, workspace, email, role, who.actor)
        return {"email": email, "role": role, "status": "member"}
    people_rows.invite(db, workspace, email, role, who.actor)
    return {"email": email, "role": role, "status": "invited"}


def set_role(
    workspace: str, email: str, role: str | Role, *, caller: Caller | None = None, settings: Settings | None = None
) -> None:
    access.run(_set_role, caller, workspace, _email(email), _role(role).value, settings=settings)


@transaction
def _set_role(db: Database, caller: Caller, workspace: str, email: str, role: str) -> None:
    who = resolve(db, caller)
    require(who, Action.MANAGE_MEMBERS, workspace)
    if email not in {m["email"] for m in people_rows.members(db, workspace)}:
        raise NotFound(f"{email} is not a member of {workspace}")
    _keep_an_owner(db, workspace, email, Role(role))
    people_rows.set_membership(db, workspace, email, role, who.actor)


def remove_member(
    workspace: str, email: str, *, caller: Caller | None = None, settings: Settings | None = None
) -> None:
    access.run(_remove_member, caller, workspace, _email(email), settings=settings)


@transaction
def _remove_member(db: Database, caller: Caller, workspace: str, email: str) -> None:
    require(resolve(db, caller), Action.MANAGE_MEMBERS, workspace)
    _keep_an_owner(db, workspace, email, None)
    if not people_rows.remove_membership(db, workspace, email):
        raise NotFound(f"{email} is not a member of {workspace}")


def _keep_an_owner(db: Database, workspace: str, email: str, new_role: Role | None) -> None:
    if new_role is Role.OWNER:
        return
    if people_rows.owners(db, workspace) == [email]:
        raise Conflict(f"{email} is the last owner of {workspace}; make someone else an owner first")


def cancel_invitation(
    workspace: str, email: str, *, caller: Caller | None = None, settings: Settings | None = None
) -> None:
    access.run(_cancel_invitation, caller, workspace, _email(email), settings=settings)


@transaction
def _cancel_invitation(db: Database, caller: Caller, workspace: str, email: str) -> None:
    require(resolve(db, caller), Action.MANAGE_MEMBERS, workspace)
    if not people_rows.cancel_invitation(db, workspace, email):
        raise NotFound(f"no pending invitation for {email} in {workspace}")


# --- API keys --------------------------------------------------------------------------------


def create_key(
    workspace: str,
    role: str | Role = Role.CREATOR,
    name: str = "",
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """A new key for the workspace. The returned ``secret`` is the only time anyone sees it (the
    transaction gets its hash only)."""
    role = _role(role)
    key_id = f"key_{secrets.token_hex(4)}"
    secret = f"{KEY_PREFIX}_{key_id.removeprefix('key_')}_{secrets.token_urlsafe(32)}"
    label = name.strip()[:80] or key_id
    access.run(_create_key, caller, workspace, key_id, role.value, label, hash_key(secret), settings=settings)
    return {"key_id": key_id, "name": label, "workspace": workspace, "role": role.value, "secret": secret}


@transaction
def _create_key(db: Database, caller: Caller, workspace: str, key_id: str, role: str, label: str, digest: str) -> None:
    who = resolve(db, caller)
    require(who, Action.MANAGE_KEYS, workspace)
    usage_rows.get_workspace(db, workspace)
    people_rows.create_key(
        db, key_id=key_id, workspace=workspace, role=role, name=label, secret_hash=digest, created_by=who.actor
    )


def list_keys(workspace: str, *, caller: Caller | None = None, settings: Settings | None = None) -> list[dict]:
    """The workspace's keys with who made them, their last use and whether they are revoked."""
    return access.run(_list_keys, caller, workspace, settings=settings)


@transaction(writes=False)
def _list_keys(db: Database, caller: Caller, workspace: str) -> list[dict]:
    require(resolve(db, caller), Action.MANAGE_KEYS, workspace)
    return people_rows.list_keys(db, workspace)


def revoke_key(workspace: str, key_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> None:
    access.run(_revoke_key, caller, workspace, key_id.strip(), settings=settings)


@transaction
def _revoke_key(db: Database, caller: Caller, workspace: str, key_id: str) -> None:
    who = resolve(db, caller)
    require(who, Action.MANAGE_KEYS, workspace)
    if not people_rows.revoke_key(db, workspace, key_id, who.actor):
        raise NotFound(f"{workspace} has no live API key {key_id}")


# --- Refusals --------------------------------------------------------------------------------


def refusals(workspace: str, *, caller: Caller | None = None, settings: Settings | None = None) -> list[dict]:
    """The latest refused attempts in the workspace (owners)."""
    return access.run(_refusals, caller, workspace, settings=settings)


@transaction(writes=False)
def _refusals(db: Database, caller: Caller, workspace: str) -> list[dict]:
    require(resolve(db, caller), Action.MANAGE_MEMBERS, workspace)
    return people_rows.refusals(db, workspace)
