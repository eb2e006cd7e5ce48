"""Two workspaces with people, keys and processed jobs, built once per test module (processing
takes seconds) and copied into each test's data dir (a file copy takes milliseconds).

north: alice creator, erin editor, vic viewer; a finished job of alice's, one QA flagged
(alice's) and one waiting for a transcript. south: bob owner; a finished job of bob's. API keys:
one per role in north, a creator key in south.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipeline import api, people
from pipeline.access import Caller
from pipeline.defaults import DATABASE_FILENAME
from pipeline.options import JobOptions
from pipeline.process import forget_cached_state
from pipeline.runner import run_queued
from pipeline.store import get_store
from pipeline.store import jobs as job_rows

__all__ = ["ADMIN", "ALICE", "BOB", "ERIN", "VIC", "SAMPLES", "submit", "build_template", "copy_template"]

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
ADMIN = Caller.local("admin@example.com")
ALICE, BOB, ERIN, VIC = (Caller.person(f"{n}@example.com") for n in ("alice", "bob", "erin", "vic"))


def submit(name: str, caller: Caller, **options) -> str:
    data = (SAMPLES / name).read_bytes()
    return api.submit(transcript=data, transcript_name=name, options=JobOptions(**options), caller=caller).job_id


def _member(workspace: str, caller: Caller, role: str) -> None:
    people.invite(workspace, caller.name, role, caller=ADMIN)
    people.sign_in(caller.name)


def _waiting_for_a_transcript(submitted_by: str) -> str:
    with get_store().session() as db:
        job = job_rows.create_job(
            db,
            workspace="north",
            source_kind="youtube",
            source="https://www.youtube.com/watch?v=abcdefghijk",
            options={},
            dedupe_key="waiting",
            actor=submitted_by,
        )
        run = job_rows.create_run(db, job["job_id"], "validate", "submitted")
        for status in ("VALIDATED", "INGESTED", "NEEDS_USER_INPUT"):
            job_rows.set_status(db, job["job_id"], status, run_id=run["run_id"], reason="the captions cover 20%")
    return job["job_id"]


def _build() -> dict:
    for name in ("north", "south"):
        api.configure_workspace(name, caller=ADMIN)
    _member("north", ALICE, "creator")
    _member("north", ERIN, "editor")
    _member("north", VIC, "viewer")
    _member("south", BOB, "owner")
    jobs = {
        "north": submit("creator-workflow-talk.srt", ALICE),
        "south": submit("creator-workflow-talk.srt", BOB),
        "flagged": submit("risky-interview.srt", ALICE),
    }
    run_queued()
    jobs["waiting"] = _waiting_for_a_transcript(ALICE.name)
    keys = {f"north_{role}": people.create_key("north", role, role, caller=ADMIN)["secret"] for role in _ROLES}
    keys["south_creator"] = people.create_key("south", "creator", "creator", caller=ADMIN)["secret"]
    return {"jobs": jobs, "keys": keys}


_ROLES = ("viewer", "creator", "editor", "owner")


def build_template(folder: Path) -> tuple[Path, dict]:
    """Build the teams under ``folder`` (this process's data dir meanwhile); returns the database
    file and what was made (``jobs`` and ``keys`` by name)."""
    saved = os.environ.get("CLIPINSIGHT_DATA_DIR")
    os.environ["CLIPINSIGHT_DATA_DIR"] = str(folder)
    forget_cached_state()
    try:
        made = _build()
    finally:
        os.environ["CLIPINSIGHT_DATA_DIR"] = saved or ""
        forget_cached_state()
    return folder / DATABASE_FILENAME, made


def copy_template(template: Path, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / DATABASE_FILENAME)
    forget_cached_state()
