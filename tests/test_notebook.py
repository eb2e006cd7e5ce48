"""The prompt-tuning notebook runs top to bottom headless, offline, on a fresh data dir, with a
kernel on this virtualenv's Python, and leaves its experiment in the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from pipeline.datasets import SAMPLES_DIR
from pipeline.prompts import list_versions
from pipeline.store import get_store

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def kernel_on_this_python(folder: Path) -> KernelManager:
    """A kernel started by this interpreter, whatever kernels the machine has installed."""
    spec = folder / "kernels" / "clipinsight-venv"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "venv", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    return KernelManager(kernel_name="clipinsight-venv", kernel_spec_manager=specs)


def test_prompt_tuning_notebook_runs_headless_offline_and_saves_its_experiment(data_dir, tmp_path):
    notebook = nbformat.read(NOTEBOOKS / "prompt_tuning.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # committed clean

    # The kernel inherits this environment: CLIPINSIGHT_DATA_DIR is the test's empty data dir, no key is set.
    client = NotebookClient(
        notebook, km=kernel_on_this_python(tmp_path), timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()

    [row] = get_store().rows("SELECT * FROM experiments")
    cells = get_store().rows(
        "SELECT version, item_id, status FROM experiment_cells WHERE experiment_id = ?", [row["experiment_id"]]
    )
    labelled = get_store().scalar("SELECT count(*) FROM prompt_labels")
    assert (row["task"], row["prompt_name"], row["provider"], row["dataset"]) == (
        "draft:linkedin",
        "local_draft_linkedin",
        "local",
        "samples",
    )
    samples = {f"sample:{path.stem}" for path in SAMPLES_DIR.glob("*.srt")}
    versions = list_versions("local_draft_linkedin")  # the notebook compares every version
    assert {(c["version"], c["item_id"]) for c in cells} == {(v, s) for v in versions for s in samples}
    assert {c["status"] for c in cells} == {"ok"} and labelled == 0  # nothing promoted unless asked

    outputs = {cell.source.splitlines()[0]: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}
    shown = json.dumps([o for outs in outputs.values() for o in outs])
    assert "application/vnd.plotly.v1+json" in shown  # the score charts were drawn
    assert row["experiment_id"] in shown and "nothing promoted" in shown
