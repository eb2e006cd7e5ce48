"""The storekeeper: the one process that opens the DuckDB file while the product runs, and what
its clients — workers, pages, the CLI, notebooks, a worker on another machine — get from it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow.flight as flight
import pytest

from pipeline import api, people
from pipeline.access import Caller
from pipeline.errors import Conflict, InvalidInput, JobHidden
from pipeline.settings import get_settings
from pipeline.store import FlightStore, StoreUnavailable, codec, get_store
from pipeline.store import artifacts as artifact_rows
from tests.conftest import SAMPLES
from tests.support.up import child_pid, start_up, stop_up

ROOT = Path(__file__).resolve().parents[1]
TALK = SAMPLES / "creator-workflow-talk.srt"


def submit(path: Path = TALK, **kwargs) -> str:
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, **kwargs).job_id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_clients_go_through_the_storekeeper_and_the_file_is_its_alone(cluster):
    store = get_store()
    assert isinstance(store, FlightStore)
    job_id = submit()
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
    # a notebook opening the file "the obvious way" is refused at once instead of stalling anyone
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(get_settings().db_path), read_only=True)
    assert store.scalar("SELECT status FROM jobs WHERE job_id = ?", [job_id]) == "ANALYTICS_LOGGED"


def test_a_refusal_crosses_the_storekeeper_with_its_audit_row_and_an_edit_conflict_with_the_latest(cluster):
    """Errors keep what a client needs across the process boundary: the refused one's record (so
    the refusal is logged, in a transaction of its own), a stale save's current version."""
    job_id = submit()
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
    api.configure_workspace("elsewhere")
    people.invite("elsewhere", "eve@example.com", "owner")
    people.sign_in("eve@example.com")
    with pytest.raises(JobHidden, match=f"no job with id {job_id}") as hidden:
        api.status_report(job_id, caller=Caller.person("eve@example.com"))
    assert hidden.value.record["reason"] == "not a member"
    logged = get_store().rows("SELECT actor, job_id, reason FROM access_refusals")
    assert logged == [{"actor": "eve@example.com", "job_id": job_id, "reason": "not a member"}]

    api.edit_draft(job_id, "linkedin", title="Mine", body="My edit.", expected_version=1)
    with pytest.raises(Conflict) as stale:
        api.edit_draft(job_id, "linkedin", title="Late", body="A late edit.", expected_version=1)
    assert stale.value.current["version"] == 2 and stale.value.current["body"] == "My edit."


def test_peoples_sql_is_read_only_and_cannot_reach_the_host(cluster):
    import pipeline

    submit()
    with pipeline.connect() as con:  # what the prompt-tuning notebook does
        cursor = con.execute("SELECT count(*) AS n, min(status) AS status FROM jobs WHERE workspace = ?", ["default"])
        assert [d[0] for d in cursor.description] == ["n", "status"] and cursor.fetchone()[0] == 1
    frame = pipeline.query("SELECT status, count(*) AS jobs FROM jobs GROUP BY ALL")
    assert list(frame.columns) == ["status", "jobs"] and frame["jobs"].sum() == 1
    store = get_store()
    refused = [
        "DELETE FROM jobs",
        "DROP TABLE jobs",
        "UPDATE jobs SET status = 'FAILED'",
        "COPY jobs TO 'stolen.csv'",
        "SELECT 1; DELETE FROM jobs",
        "ATTACH 'other.duckdb'",
        "INSTALL httpfs",
        "SET threads = 1",
    ]
    for sql in refused:
        with pytest.raises(InvalidInput):
            store.rows(sql)
    with pytest.raises(InvalidInput, match="disabled"):  # a SELECT may not read the host's files either
        store.rows("SELECT * FROM read_csv('/etc/passwd')")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "sql", "DELETE FROM jobs"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2 and "read-only" in result.stderr and "Traceback" not in result.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "pipeline", "sql", "SELECT count(*) AS n FROM jobs", "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert listed.returncode == 0 and listed.stdout.splitlines()[0] == "n"


def test_a_lost_answer_is_answered_again_not_run_twice(cluster):
    """A client whose connection broke asks again with the same request id."""
    request = {
        "name": "pipeline.api:_submit_job",
        "args": [Caller.local("test")],
        "kwargs": {
            "workspace": "default",
            "kind": "transcript",
            "label": "retried.srt",
            "options": {"formats": ["linkedin"], "tone": "friendly", "cta_url": None},
            "same": [uuid.uuid4().hex],
            "transcript": None,
            "duration_s": None,
        },
        "request_id": uuid.uuid4().hex,
    }
    client = flight.FlightClient(get_store().location)
    answers = [
        codec.decode(list(client.do_action(flight.Action("tx", codec.encode(request))))[0].body.to_pybytes()[1:])
        for _ in range(2)
    ]
    assert answers[0]["job"]["job_id"] == answers[1]["job"]["job_id"]
    assert get_store().scalar("SELECT count(*) FROM jobs WHERE source = 'retried.srt'") == 1


def _storekeeper(data_dir: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "CLIPINSIGHT_DATA_DIR": str(data_dir), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "storekeeper"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_tcp_needs_a_token_and_files_travel_with_it(tmp_path):
    port = free_port()
    url = f"grpc+tcp://127.0.0.1:{port}"
    refused = _storekeeper(tmp_path / "none", CLIPINSIGHT_STORE_URL=url)
    output, _ = refused.communicate(timeout=60)
    assert refused.returncode != 0 and "without a token" in output

    keeper = _storekeeper(tmp_path / "keeper", CLIPINSIGHT_STORE_URL=url, CLIPINSIGHT_STORE_TOKEN="s3cret-token")
    try:
        good = FlightStore(url, token="s3cret-token", wait_s=30)
        assert good.ping()["pid"] == keeper.pid
        for token in (None, "wrong"):
            with pytest.raises(StoreUnavailable, match="token"):
                FlightStore(url, token=token, wait_s=2).rows("SELECT 1")

        source = tmp_path / "clip.bin"
        source.write_bytes(os.urandom(3 << 20))  # three chunks and a bit
        good.put_file("media/uploads/clip.bin", source)
        assert (tmp_path / "keeper" / "media" / "uploads" / "clip.bin").read_bytes() == source.read_bytes()
        back = good.get_file("media/uploads/clip.bin", tmp_path / "back" / "clip.bin")
        assert back.read_bytes() == source.read_bytes()
        for key in ("../escape", "/etc/passwd", "clipinsight.duckdb", "redis/redis.conf"):
            with pytest.raises(InvalidInput):
                good.get_file(key, tmp_path / "x")
            with pytest.raises((InvalidInput, flight.FlightServerError)):
                good.put_file(key, source)
        assert not (tmp_path / "escape").exists()
    finally:
        keeper.send_signal(signal.SIGTERM)
        keeper.wait(timeout=30)


@pytest.mark.slow
def test_a_killed_storekeeper_loses_nothing(data_dir):
    """kill -9 of the storekeeper mid-run: `up` restarts it, every job still finishes, and no
    artifact is stored twice (DuckDB's write-ahead log keeps what was committed)."""
    up = start_up("--workers", "2")
    try:
        deadline = time.monotonic() + 60
        while child_pid(up, "storekeeper") is None or not (data_dir / "storekeeper.json").exists():
            assert time.monotonic() < deadline, "the storekeeper did not start"
            time.sleep(0.2)
        get_store().ping()
        jobs = [submit(workspace="default", options=api.job_options(["linkedin", "x_thread"], tone=tone))
                for tone in ("friendly", "bold", "professional")]  # fmt: skip
        jobs += [submit(SAMPLES / "long-workshop.srt")]
        time.sleep(1.5)
        first = child_pid(up, "storekeeper")
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while child_pid(up, "storekeeper") in (None, first):
            assert time.monotonic() < deadline, "up did not restart the storekeeper"
            time.sleep(0.1)
        for job_id in jobs:
            assert api.wait_for(job_id, timeout=180)["status"] == "ANALYTICS_LOGGED", job_id
            latest = get_store().run(artifact_rows.latest_artifacts, job_id, content=False)
            run_ids = {a["run_id"] for a in latest}
            counts = get_store().rows(
                "SELECT kind, count(*) AS n FROM artifacts WHERE job_id = ? GROUP BY kind", [job_id]
            )
            assert len(run_ids) == 1 and all(row["n"] == 1 for row in counts), counts
        # the workers were alive throughout: none of their attempts may be taken for a lost worker
        assert get_store().scalar("SELECT count(*) FROM run_steps WHERE status = 'lost'") == 0
    finally:
        stop_up(up)


def test_a_notebook_reading_in_a_loop_stalls_no_one(cluster):
    """A prompt tuner's SELECTs in a loop while workers drain jobs: every query answers, every
    job finishes (the drain time beside a reader is measured in bench/orchestration.py)."""
    import threading

    answers, failures, stop = [], [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                answers.append(get_store().frame("SELECT status, count(*) AS n FROM jobs GROUP BY ALL"))
            except Exception as exc:  # any failure is what this test is about
                failures.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        tones = ("friendly", "bold", "professional")
        jobs = [submit(options=api.job_options(["linkedin"], tone=tone)) for tone in tones]
        statuses = [api.wait_for(job_id, timeout=180)["status"] for job_id in jobs]
    finally:
        stop.set()
        reader.join(timeout=30)
    assert failures == [] and len(answers) > 10
    assert statuses == ["ANALYTICS_LOGGED"] * 3
