"""The command line as a user meets it, and ``python -m pipeline up`` as the product runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from pipeline import api, queue
from pipeline.redis_server import embedded
from pipeline.settings import get_settings
from tests.conftest import SAMPLES
from tests.support.browser import Product, free_port

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=os.environ.copy(),
    )


def assert_one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], result.stderr


def test_user_errors_are_one_clear_line(data_dir, tmp_path):
    assert_one_line_error(cli("status", "job_nope"), "no job with id job_nope")
    assert_one_line_error(cli("export", "job_nope", "--out", str(tmp_path / "x")), "no job with id")
    binary = tmp_path / "clip.srt"
    binary.write_bytes(bytes(range(256)) * 10)
    assert_one_line_error(cli("submit", "--transcript", str(binary)), "binary")
    assert_one_line_error(cli("submit", "--transcript", str(tmp_path / "missing.srt")), "not found")
    assert_one_line_error(cli("submit"), "give a SOURCE")
    assert_one_line_error(cli("review", "reject", "job_nope"), "reason")
    assert_one_line_error(
        cli("submit", "--transcript", str(SAMPLES / "risky-interview.srt"), "--tone", "loud"), "tone must be one of"
    )
    assert_one_line_error(cli("workspace", "w", "--webhook", "http://169.254.169.254/latest"), "webhook refused")


def test_workspace_webhook_secret_is_printed_once_and_rotates(data_dir, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")
    first = cli("workspace", "w", "--webhook", "http://127.0.0.1:9/hook")
    again = cli("workspace", "w", "--webhook", "http://127.0.0.1:9/other")
    rotated = cli("workspace", "w", "--rotate-webhook-secret")
    secret = json.loads(first.stdout)["webhook_secret"]
    assert secret.startswith("whsec_") and "shown this once" in first.stderr
    assert "webhook_secret" not in json.loads(again.stdout)
    assert json.loads(rotated.stdout)["webhook_secret"] not in ("", secret)


def test_every_entry_refuses_what_the_page_refuses(data_dir):
    """The rules live in the models and pipeline.api: the CLI gets the Submit page's answers."""
    from pipeline import api, views
    from pipeline.errors import InvalidInput, QuotaExceeded

    talk = str(SAMPLES / "creator-workflow-talk.srt")
    for bad in ("javascript:alert(1)", "example", "https://exa mple.com/x"):
        with pytest.raises(InvalidInput) as page:
            views.build_options(["linkedin"], "friendly", bad)
        assert_one_line_error(cli("submit", "--transcript", talk, "--cta", bad), str(page.value))
    assert_one_line_error(cli("submit", "--transcript", talk, "--formats", "tiktok"), "unknown draft format 'tiktok'")
    api.configure_workspace("tiny", plan="free")
    long_talk = str(SAMPLES / "long-workshop.srt")
    with pytest.raises(QuotaExceeded) as page:
        api.submit(transcript=Path(long_talk).read_bytes(), transcript_name="long-workshop.srt", workspace="tiny")
    assert_one_line_error(cli("submit", "--transcript", long_talk, "--workspace", "tiny"), str(page.value))


def test_submit_without_a_worker_keeps_the_job_and_says_so(data_dir):
    result = cli("submit", "--transcript", str(SAMPLES / "creator-workflow-talk.srt"), "--wait", "--json")
    assert result.returncode == 3
    assert "no worker is running" in result.stderr and "Traceback" not in result.stderr
    job_id = json.loads(result.stdout)["job_id"]
    assert json.loads(cli("status", job_id, "--json").stdout)["status"] == "RECEIVED"


def test_submit_wait_export_review_through_the_cli(cluster, tmp_path):
    done = cli(
        "submit",
        "--transcript",
        str(SAMPLES / "creator-workflow-talk.srt"),
        "--wait",
        "--json",
        "--formats",
        "linkedin,x_thread",
        "--cta",
        "https://example.com/join",
    )
    assert done.returncode == 0, done.stderr
    job_id = json.loads(done.stdout)["job_id"]
    out = tmp_path / "bundle"
    assert cli("export", job_id, "--out", str(out)).returncode == 0
    assert sorted(p.name for p in (out / "drafts").iterdir()) == ["linkedin.txt", "x_thread.txt"]
    assert "https://example.com/join" in (out / "drafts" / "linkedin.txt").read_text()

    flagged = cli("submit", "--transcript", str(SAMPLES / "risky-interview.srt"), "--wait")
    assert flagged.returncode == 1
    flagged_id = flagged.stdout.split()[0]
    assert flagged.stdout.split()[1] == "REQUIRES_MANUAL_REVIEW"
    assert_one_line_error(cli("review", "reject", flagged_id), "needs a reason")
    approved = cli("review", "approve", flagged_id, "--editor", "sam")
    assert approved.returncode == 0 and "REVIEWED" in approved.stdout


def _children(process: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def _live_worker_pids(up: subprocess.Popen) -> set[int]:
    pids = set()
    for child in _children(up):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "worker" in child.cmdline():
                pids.add(child.pid)
        except psutil.Error:  # exited while we looked
            continue
    return pids


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@contextmanager
def _up(workers: int = 2, api_port: int | None = None):
    """``python -m pipeline up --no-ui`` with every child ready; taken down whatever happens."""
    api = ["--api-port", str(api_port)] if api_port else ["--no-api"]
    up = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "up", "--no-ui", "--workers", str(workers), *api],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait(lambda: (get_settings().redis_dir / "redis.sock").exists(), what="redis")
        conn = queue.redis_client(get_settings())
        _wait(lambda: len(queue.live_workers(conn)) == workers, what=f"{workers} workers")
        if api_port:
            _wait(lambda: Product._answers(f"http://127.0.0.1:{api_port}/openapi.json"), what="the HTTP API")
        yield up
    finally:
        if up.poll() is None:  # the test failed midway: take down everything up started
            for child in _children(up):
                child.kill()
            up.kill()
            embedded(get_settings()).stop()


@pytest.mark.slow
def test_up_runs_everything_restarts_dead_workers_and_stops_cleanly(data_dir):
    with _up(api_port=free_port()) as up:
        result = cli("submit", "--transcript", str(SAMPLES / "creator-workflow-talk.srt"), "--wait")
        assert result.returncode == 0, result.stderr

        workers = _live_worker_pids(up)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(_live_worker_pids(up) - {victim}) == 2, what="a restarted worker")
        everything = _children(up)
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0
    assert "restarting" in output and "ClipInsight stopped." in output
    _wait(lambda: all(_gone(p) for p in everything), 15, "children to exit")
    assert not (data_dir / "redis" / "redis.sock").exists() or not _redis_answers()


@pytest.mark.slow
def test_up_restarts_a_killed_redis_and_workers_carry_on(data_dir, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_PIPELINE", "tests.support.steps:PIPELINE")
    monkeypatch.setenv("CLIPINSIGHT_TEST_SLOW_STEP", "insights")  # a job is mid-step when Redis dies
    monkeypatch.setenv("CLIPINSIGHT_TEST_SLOW_SECONDS", "3")
    talk = str(SAMPLES / "creator-workflow-talk.srt")
    with _up() as up:
        workers = _live_worker_pids(up)
        running = cli("submit", "--transcript", talk).stdout.split()[0]
        _wait(lambda: (data_dir / "started-insights").exists(), what="the job to reach insights")
        victim = _redis_pid(up)
        os.kill(victim, signal.SIGKILL)  # no warning, no append-only flush
        during = cli("submit", "--transcript", talk, "--tone", "bold").stdout.split()[0]  # Redis may be away
        _wait(lambda: _redis_pid(up) not in (None, victim), 30, "a restarted Redis")
        finished = [api.wait_for(job, timeout=120)["status"] for job in (running, during)]
        assert _live_worker_pids(up) == workers  # the same workers: none died with Redis
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=60)
    assert finished == ["ANALYTICS_LOGGED", "ANALYTICS_LOGGED"]
    assert "redis exited with code -9; restarting" in output


def _redis_pid(up: subprocess.Popen) -> int | None:
    for child in _children(up):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "redis-server" in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


def _redis_answers() -> bool:
    return embedded(get_settings()).running()


def test_regenerate_one_draft_from_the_command_line(data_dir):
    from pipeline import api
    from pipeline.runner import run_queued
    from pipeline.store import artifacts as artifact_rows
    from pipeline.store import get_store

    path = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name).job_id
    run_queued()
    done = cli("regenerate", job_id, "linkedin", "--instruction", "lead with the story")
    assert done.returncode == 0 and done.stdout.strip() == f"{job_id} INSIGHTS", done.stderr
    run_queued()
    history = get_store().run(artifact_rows.draft_history, job_id, "linkedin")
    assert [(v["source"], v["note"]) for v in history] == [
        ("generated", None),
        ("regenerated", "regenerated: lead with the story"),
    ]
    assert history[-1]["body"].startswith("Two years ago I was publishing")
    assert_one_line_error(cli("regenerate", job_id, "linkedin", "--instruction", "x" * 300), "at most 200 characters")
