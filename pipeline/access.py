"""Who may do what: the roles, what each allows, and the one check every entry goes through.

Roles are ordered: viewer < creator < editor < owner, each allowing what the ones below allow.

| action | least role (any job) | on the caller's own jobs |
|---|---|---|
| read jobs, drafts, transcripts, bundles, analytics | viewer | |
| submit | creator | |
| edit a draft, give a transcript, cancel, retry, re-run | editor | creator |
| approve or reject flagged drafts | editor | |
| change plan or webhook, manage members and API keys, edit the voice profile | owner | |

Invariants:

- Every operation (``pipeline.api``, ``pipeline.views``, ``pipeline.people``) runs its domain
  transaction through :func:`run`, with the caller as the transaction's first argument; the
  transaction resolves the caller (:func:`resolve`) there and then, so a membership changed or a
  key revoked a moment ago counts at once, in whichever process owns the database.
- A job of a workspace the caller is not a member of is "not found" (:class:`JobHidden`, with
  the very message an unknown id gets), never "forbidden": no one learns which ids exist elsewhere.
- Every refusal leaves an ``access_refusals`` row, written in a transaction of its own (the
  refused one rolls back): the refusal crosses from the storekeeper with its record.
- The CLI and in-process Python (notebooks, tests) have the files; without a caller they act as
  the local administrator, the owner of every workspace, named after the OS user. The UI and the
  API always name their caller; their processes run with ``require_caller`` so that a missing
  one is a bug that fails, not an administrator. The default is decided in the calling process
  (:func:`run`), never in the storekeeper, which trusts the caller its clients name: its socket
  is the data dir owner's alone, and over TCP it needs the store token.
"""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from pipeline import defaults
from pipeline.errors import Forbidden, InvalidInput, JobHidden, Refused, Unauthenticated
from pipeline.settings import Settings, get_settings
from pipeline.store import Database, get_store
from pipeline.store import jobs as job_rows
from pipeline.store import people as people_rows

__all__ = [
    "Role",
    "Action",
    "Rule",
    "RULES",
    "Caller",
    "Principal",
    "permits",
    "may_edit_voice",
    "run",
    "resolve",
    "note_key_use",
    "require",
    "job_for",
    "normalize_email",
    "hash_key",
    "is_loopback",
    "check_ui_address",
]


class Role(str, Enum):
    VIEWER = "viewer"
    CREATOR = "creator"
    EDITOR = "editor"
    OWNER = "owner"

    def includes(self, other: Role) -> bool:
        """Whether this role may do everything ``other`` may."""
        order = list(Role)
        return order.index(self) >= order.index(other)


class Action(str, Enum):
    READ = "read"
    SUBMIT = "submit"
    EDIT_DRAFT = "edit a draft"
    PROVIDE_TRANSCRIPT = "provide a transcript"
    CANCEL = "cancel a job"
    RETRY = "retry a job"
    RERUN = "re-run a step"
    REVIEW = "approve or reject drafts"
    CONFIGURE_WORKSPACE = "change the plan or webhook"
    MANAGE_MEMBERS = "manage members"
    MANAGE_KEYS = "manage API keys"
    EDIT_VOICE = "edit the voice profile"


@dataclass(frozen=True)
class Rule:
    """The least role that may do an action on any job of the workspace, and the lesser one that
    may do it on jobs it submitted itself (None: no such allowance)."""

    role: Role
    own_job: Role | None = None

    def describe(self) -> str:
        if self.own_job:
            return f"the {self.role.value} role (or {self.own_job.value}, on jobs they submitted)"
        return f"the {self.role.value} role"


_OWN_OR_EDITOR = Rule(Role.EDITOR, own_job=Role.CREATOR)

#: What each action needs: the one table of who may do what.
RULES: Mapping[Action, Rule] = {
    Action.READ: Rule(Role.VIEWER),
    Action.SUBMIT: Rule(Role.CREATOR),
    Action.EDIT_DRAFT: _OWN_OR_EDITOR,
    Action.PROVIDE_TRANSCRIPT: _OWN_OR_EDITOR,
    Action.CANCEL: _OWN_OR_EDITOR,
    Action.RETRY: _OWN_OR_EDITOR,
    Action.RERUN: _OWN_OR_EDITOR,
    Action.REVIEW: Rule(Role.EDITOR),
    Action.CONFIGURE_WORKSPACE: Rule(Role.OWNER),
    Action.MANAGE_MEMBERS: Rule(Role.OWNER),
    Action.MANAGE_KEYS: Rule(Role.OWNER),
    Action.EDIT_VOICE: Rule(Role.OWNER),
}


def permits(role: Role | str | None, action: Action, *, own_job: bool = False) -> bool:
    """Whether a member with ``role`` may do ``action`` (on a job they submitted, with ``own_job``)."""
    if role is None:
        return False
    role, rule = Role(role), RULES[action]
    return role.includes(rule.role) or (own_job and rule.own_job is not None and role.includes(rule.own_job))


def may_edit_voice(role: Role | str | None) -> bool:
    """Only owners edit a workspace's voice profile."""
    return permits(role, Action.EDIT_VOICE)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_key(secret: str) -> str:
    """What is stored of an API key. The key is 32 random bytes, so a plain sha256 cannot be
    reversed by guessing (a slow password hash would only slow every request down)."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def is_loopback(address: str | None) -> bool:
    """Whether a listening address is this machine only (None or "": every interface)."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_ui_address(address: str | None, settings: Settings) -> None:
    """Without a login, the UI's one user is the owner of every workspace: it may listen on this
    machine only. Anywhere else is refused with how to configure a login."""
    if settings.login_configured or is_loopback(address):
        return
    where = address or "every interface"
    raise InvalidInput(
        f"refusing to serve the UI on {where} with no login configured: anyone who reached it would be the "
        f"owner of every workspace. Configure a login (an [auth] section with redirect_uri, cookie_secret, "
        f"client_id, client_secret and server_metadata_url in {settings.secrets_file}; see the README's "
        f"'People, roles and login') or listen on 127.0.0.1."
    )


# --- Who asks --------------------------------------------------------------------------------


class Caller(BaseModel):
    """Who asks, as the entry knows it: a signed-in email (UI), the local administrator (CLI,
    notebooks, the UI without a login), or an API key (HTTP API; resolved in the store). A model,
    so that it travels with a transaction to the process that owns the database."""

    model_config = ConfigDict(frozen=True)

    name: str
    admin: bool = False
    key_hash: str | None = Field(default=None, repr=False)

    @classmethod
    def person(cls, email: str) -> Caller:
        return cls(name=normalize_email(email))

    @classmethod
    def local(cls, name: str | None = None) -> Caller:
        """The local administrator: the owner of every workspace, recorded under ``name`` (the
        OS user when not given)."""
        return cls(name=(name or "").strip() or getpass.getuser(), admin=True)

    @classmethod
    def api_key(cls, secret: str) -> Caller:
        return cls(name="api key", key_hash=hash_key(secret))


@dataclass(frozen=True)
class Principal:
    """A caller resolved against the store: the name audit rows carry and their roles."""

    actor: str
    roles: Mapping[str, Role]
    admin: bool = False

    def role_in(self, workspace: str) -> Role | None:
        return Role.OWNER if self.admin else self.roles.get(workspace)

    def workspaces(self) -> tuple[str, ...] | None:
        """The workspaces this caller may see; None: every one (the administrator)."""
        return None if self.admin else tuple(sorted(self.roles))


def resolve(db: Database, caller: Caller) -> Principal:
    if caller.admin:
        return Principal(caller.name, {}, admin=True)
    if caller.key_hash is not None:
        return _key_principal(db, caller.key_hash)
    roles = people_rows.roles_of(db, caller.name)
    return Principal(caller.name, {workspace: Role(role) for workspace, role in roles.items()})


def _key_principal(db: Database, key_hash: str) -> Principal:
    key = people_rows.key_by_hash(db, key_hash)
    if key is None or key["revoked_at"] is not None:
        why = "this API key was revoked" if key else "no valid API key (send Authorization: Bearer KEY)"
        record = {"actor": key["key_id"] if key else "unknown key", "action": "use the API", "reason": why}
        raise Unauthenticated(why, record=record)
    return Principal(key["key_id"], {key["workspace"]: Role(key["role"])})


_touched: dict[str, float] = {}
_touched_lock = threading.Lock()


def note_key_use(caller: Caller, settings: Settings | None = None) -> None:
    """Record when an API key was last used, at most every ``API_KEY_TOUCH_S`` per process: a
    write of its own, so that the reads a request makes stay reads."""
    if caller.key_hash is None:
        return
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(caller.key_hash, -1e9) < defaults.API_KEY_TOUCH_S:
            return
        _touched[caller.key_hash] = now
    get_store(settings or get_settings()).run(people_rows.touch_key_by_hash, caller.key_hash)


# --- The check -------------------------------------------------------------------------------


def require(who: Principal, action: Action, workspace: str, *, job: dict | None = None) -> None:
    """Refuse unless ``who`` may do ``action`` in ``workspace`` (on ``job``, when it is about one)."""
    role = who.role_in(workspace)
    own = job is not None and job.get("submitted_by") == who.actor
    if permits(role, action, own_job=own):
        return
    record = {"actor": who.actor, "action": action.value, "workspace": workspace}
    if job is not None:
        record["job_id"] = job["job_id"]
    if role is None and job is not None:
        raise JobHidden(f"no job with id {job['job_id']}", record={**record, "reason": "not a member"})
    if role is None:
        message = f"{who.actor} is not a member of workspace {workspace!r}; ask one of its owners to invite you"
        raise Forbidden(message, record={**record, "reason": message})
    needs = RULES[action].describe()
    message = f"{who.actor} is {_article(role)} {role.value} in {workspace}: only {needs} may {action.value}"
    raise Forbidden(message, record={**record, "reason": message})


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


def job_for(db: Database, who: Principal, job_id: str, action: Action = Action.READ) -> dict:
    """The job, if ``who`` may do ``action`` on it; a job of another workspace is not found."""
    job = job_rows.get_job(db, job_id)
    require(who, action, job["workspace"], job=job)
    return job


def run(function: Callable, caller: Caller | None, *args, settings: Settings | None = None, **kwargs):
    """Run the domain transaction ``function(db, caller, *args, **kwargs)`` for ``caller`` (None:
    the local administrator, where that is allowed). A refusal raised in it is recorded, in a
    transaction of its own (the refused one rolled back), and raised on."""
    settings = settings or get_settings()
    caller = _caller_or_default(caller, settings)
    store = get_store(settings)
    try:
        found = store.run(function, caller, *args, **kwargs)
        note_key_use(caller, settings)
        return found
    except Refused as refusal:
        store.run(people_rows.record_refusal, refusal.record)
        raise


def _caller_or_default(caller: Caller | None, settings: Settings) -> Caller:
    if caller is not None:
        return caller
    if settings.require_caller:
        raise RuntimeError("an operation in the UI or API process was called without its caller (a bug)")
    return Caller.local()
