"""Redis: the embedded server under the data dir, or REDIS_URL when set."""

from __future__ import annotations

import pytest

from pipeline import api, queue
from pipeline.redis_server import RedisUnavailable, connect, embedded
from pipeline.settings import get_settings, reset_settings
from tests.conftest import SAMPLES


def test_embedded_server_is_configured_for_a_queue(settings):
    server = embedded(settings)
    assert server.start() and not server.start()  # the second call finds it running
    try:
        config = connect(settings).config_get("*")
        assert config["appendonly"] == "yes" and config["appendfsync"] == "everysec"
        assert config["maxmemory-policy"] == "noeviction"
        assert config["dir"] == str(settings.redis_dir)
    finally:
        server.stop()
    with pytest.raises(RedisUnavailable, match="python -m pipeline up"):
        connect(settings)


def test_redis_url_wins_over_the_embedded_server(cluster_factory, monkeypatch, tmp_path):
    other = embedded(get_settings()).__class__(tmp_path / "elsewhere")
    other.start()
    try:
        cluster = cluster_factory(REDIS_URL=f"unix://{other.socket_path}")
        job_id = api.submit(
            transcript=(SAMPLES / "creator-workflow-talk.srt").read_bytes(), transcript_name="talk.srt"
        ).job_id
        assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
        assert queue.live_workers(other.client())  # the workers announced themselves there
        cluster.stop()  # while their Redis still answers, so they stop at once
    finally:
        other.stop()


def test_unreachable_redis_url_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    reset_settings()
    with pytest.raises(RedisUnavailable) as caught:
        connect(get_settings())
    assert "does not answer" in str(caught.value) and "hunter2" not in str(caught.value)
