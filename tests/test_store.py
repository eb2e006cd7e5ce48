"""The store: migrations recorded, one process at a time with a bounded wait, compare-and-set
attempts, drafts versioned with conflict detection."""

from __future__ import annotations

import multiprocessing
import os
import time

import duckdb
import pytest

from pipeline.errors import Conflict
from pipeline.models import Draft
from pipeline.store import FileStore, StoreBusy, get_store
from pipeline.store import artifacts as artifact_rows
from pipeline.store import steps as step_rows


def test_migrations_are_numbered_and_recorded(settings):
    rows = get_store().rows("SELECT version, name FROM schema_migrations ORDER BY version")
    assert rows[0] == {"version": 1, "name": "m001_initial"}
    assert get_store().scalar("SELECT plan FROM workspaces WHERE name = 'default'") == "creator"
    # opening again applies nothing twice
    with FileStore(settings.db_path).session() as db:
        assert db.scalar("SELECT count(*) FROM schema_migrations") == len(rows)


def _hold_lock(path: str, seconds: float, ready) -> None:
    store = FileStore(__import__("pathlib").Path(path))
    with store.session():
        ready.set()
        time.sleep(seconds)


def test_a_busy_database_waits_then_fails_clearly(settings):
    with get_store().session():  # create the file
        pass
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold_lock, args=(str(settings.db_path), 3, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreBusy, match="stayed busy"), FileStore(settings.db_path, lock_timeout=0.5).session():
            pass
        with FileStore(settings.db_path, lock_timeout=20).session() as db:  # waits its turn, then works
            assert db.scalar("SELECT 1") == 1
    finally:
        holder.join()


def test_a_foreign_duckdb_process_holding_the_file_gives_store_busy(settings):
    with get_store().session():
        pass
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold_raw, args=(str(settings.db_path), ready))
    holder.start()
    try:
        assert ready.wait(30)
        with (
            pytest.raises(StoreBusy, match="close any DuckDB shell"),
            FileStore(settings.db_path, lock_timeout=0.5).session(),
        ):
            pass
    finally:
        holder.join()


def _hold_raw(path: str, ready) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(2)
    con.close()


def test_an_attempt_is_claimed_once(settings):
    with get_store().session() as db:
        row = step_rows.queue_attempt(db, run_id="r", job_id="j", step="insights", attempt=1)
        assert step_rows.claim_attempt(db, row["id"], "w1")["status"] == "running"
        assert step_rows.claim_attempt(db, row["id"], "w2") is None
        assert step_rows.finish_attempt(db, row["id"], 5.0)
        assert not step_rows.end_attempt(db, row["id"], "lost", code="WORKER_LOST", message="late")
        again = step_rows.queue_attempt(db, run_id="r", job_id="j", step="insights", attempt=2)
        assert step_rows.claim_attempt(db, again["id"], "w3") is None  # the step is already done


def test_a_failed_transaction_leaves_nothing(settings):
    with pytest.raises(RuntimeError), get_store().session() as db:
        step_rows.queue_attempt(db, run_id="r", job_id="j", step="validate", attempt=1)
        raise RuntimeError("boom")
    assert get_store().scalar("SELECT count(*) FROM run_steps") == 0


def test_draft_edits_conflict_instead_of_overwriting(settings):
    draft = Draft(format="linkedin", title="T", body="first")
    with get_store().session() as db:
        assert (
            artifact_rows.add_draft_version(db, "j", draft, source="generated", author="clipinsight", run_id="r") == 1
        )
        # the same generated draft saved again by a retried step stays one version
        assert (
            artifact_rows.add_draft_version(db, "j", draft, source="generated", author="clipinsight", run_id="r") == 1
        )
        mine = draft.model_copy(update={"body": "mine"})
        assert artifact_rows.add_draft_version(db, "j", mine, source="edit", author="ann", expected_version=1) == 2
        theirs = draft.model_copy(update={"body": "theirs"})
        with pytest.raises(Conflict, match="saved by someone else"):
            artifact_rows.add_draft_version(db, "j", theirs, source="edit", author="bob", expected_version=1)
        assert artifact_rows.latest_drafts(db, "j")["linkedin"]["body"] == "mine"


def test_the_data_dir_database_and_uploads_are_private_whatever_the_umask(settings):
    from pipeline import api

    previous = os.umask(0o022)  # a process that did not start through an entry point
    try:
        with get_store().session() as db:
            db.scalar("SELECT 1")
        upload = api.save_upload(b"not really a video", "talk.mp4")
    finally:
        os.umask(previous)
    modes = {path: oct(path.stat().st_mode & 0o777) for path in (settings.data_dir, settings.db_path, upload)}
    assert modes == {settings.data_dir: "0o700", settings.db_path: "0o600", upload: "0o600"}
