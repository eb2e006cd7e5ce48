"""Voice profiles: every saved version of a workspace's profile, and the version each run was
pinned to when it first asked (so every step of a run writes in the same voice, and the run's
provenance says which)."""

from __future__ import annotations

from pipeline.models import VoiceProfile
from pipeline.store import Database, transaction, utcnow

__all__ = ["latest_profile", "save_profile", "profile_history", "pin_profile", "pinned_profile", "job_pins"]


def _profile(row: dict | None) -> VoiceProfile | None:
    if row is None:
        return None
    return VoiceProfile.model_validate_json(row["profile"]).model_copy(update={"version": row["version"]})


@transaction(writes=False)
def latest_profile(db: Database, workspace: str) -> VoiceProfile | None:
    row = db.row(
        "SELECT version, profile FROM voice_profiles WHERE workspace = ? ORDER BY version DESC LIMIT 1", [workspace]
    )
    return _profile(row)


def save_profile(db: Database, workspace: str, profile: VoiceProfile, *, by: str, note: str | None = None) -> int:
    """Store ``profile`` as the workspace's next version; returns that version."""
    version = (db.scalar("SELECT max(version) FROM voice_profiles WHERE workspace = ?", [workspace]) or 0) + 1
    content = profile.model_copy(update={"version": version}).model_dump_json()
    db.execute(
        "INSERT INTO voice_profiles VALUES (?, ?, ?, ?, ?, ?)", [workspace, version, content, by, note, utcnow()]
    )
    return version


@transaction(writes=False)
def profile_history(db: Database, workspace: str) -> list[dict]:
    return db.rows(
        "SELECT version, saved_by, note, saved_at FROM voice_profiles WHERE workspace = ? ORDER BY version", [workspace]
    )


def pin_profile(db: Database, run_id: str, workspace: str) -> VoiceProfile | None:
    """The profile ``run_id`` writes in: pinned to the workspace's newest version the first time
    the run asks (None: the workspace has none)."""
    pinned = db.row("SELECT workspace, version FROM run_voices WHERE run_id = ?", [run_id])
    if pinned is None:
        current = latest_profile(db, workspace)
        version = current.version if current else 0
        db.execute("INSERT OR IGNORE INTO run_voices VALUES (?, ?, ?, ?)", [run_id, workspace, version, utcnow()])
        return current
    return _at_version(db, pinned["workspace"], pinned["version"])


@transaction(writes=False)
def pinned_profile(db: Database, run_id: str) -> VoiceProfile | None:
    """The profile a run was pinned to, without pinning one."""
    pinned = db.row("SELECT workspace, version FROM run_voices WHERE run_id = ?", [run_id])
    return _at_version(db, pinned["workspace"], pinned["version"]) if pinned else None


def _at_version(db: Database, workspace: str, version: int) -> VoiceProfile | None:
    if not version:
        return None
    row = db.row(
        "SELECT version, profile FROM voice_profiles WHERE workspace = ? AND version = ?", [workspace, version]
    )
    return _profile(row)


@transaction(writes=False)
def job_pins(db: Database, job_id: str) -> dict[str, int]:
    """run id -> the voice profile version each run of a job was pinned to."""
    rows = db.rows(
        "SELECT v.run_id, v.version FROM run_voices v JOIN job_runs r ON r.run_id = v.run_id WHERE r.job_id = ?",
        [job_id],
    )
    return {row["run_id"]: row["version"] for row in rows}
