"""Every test gets its own data dir (DuckDB file, media, exports, embedded Redis)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipeline.process import forget_cached_state
from pipeline.settings import get_settings
from tests.support.cluster import Cluster
from tests.support.teams import build_template, copy_template

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("CLIPINSIGHT_DATA_DIR", str(path))
    for name in ("REDIS_URL", "GEMINI_API_KEY", "CLIPINSIGHT_PROVIDER", "CLIPINSIGHT_PIPELINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no .streamlit/secrets.toml of the developer is read
    forget_cached_state()
    yield path
    forget_cached_state()


@pytest.fixture(autouse=True)
def main_module_kept():
    """Streamlit's AppTest makes its script ``__main__`` and leaves it there; a later
    ``multiprocessing`` spawn would run that script again in its child and fail."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def settings(data_dir):
    return get_settings()


@pytest.fixture
def cluster_factory(data_dir, monkeypatch):
    """Start a real deployment with extra environment (undone after the test); stopped after the test."""
    started: list[Cluster] = []

    def start(workers: int = 2, reconciler: bool = True, **env: str) -> Cluster:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        forget_cached_state()
        cluster = Cluster().start(workers=workers, reconciler=reconciler)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def cluster(cluster_factory) -> Cluster:
    return cluster_factory()


@pytest.fixture
def sample_srt() -> Path:
    return SAMPLES / "creator-workflow-talk.srt"


@pytest.fixture(scope="module")
def teams_template(tmp_path_factory):
    """Two workspaces with people, API keys and processed jobs (tests/support/teams.py), made once
    per module."""
    return build_template(tmp_path_factory.mktemp("teams") / "data")


@pytest.fixture
def teams(teams_template, data_dir) -> dict:
    """The teams in this test's data dir: ``{"jobs": {...}, "keys": {...}}``."""
    template, made = teams_template
    copy_template(template, data_dir)
    return made
