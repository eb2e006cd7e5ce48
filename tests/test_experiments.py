"""Prompt experiments, labels and the editors' evaluation dataset, on the real offline provider,
the real store, real workers, and the local Gemini server."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline import api, datasets, evaluation, experiments, labels
from pipeline import store as store_module
from pipeline.access import Caller
from pipeline.errors import InvalidInput
from pipeline.options import JobOptions
from pipeline.providers.gemini import GeminiContentProvider
from pipeline.store import artifacts as artifact_rows
from pipeline.store import get_store
from tests.conftest import SAMPLES
from tests.support.gemini_server import GeminiServer
from tests.test_cli import assert_one_line_error, cli

TWO_TALKS = ["creator-workflow-talk", "risky-interview"]


@pytest.fixture
def talks() -> list[datasets.Item]:
    return datasets.sample_items(TWO_TALKS)


def submit(name: str, **options) -> str:
    path = SAMPLES / name
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id


# --- Experiments offline --------------------------------------------------------------------


def test_linkedin_versions_compared_offline_differ_in_output_and_score(talks):
    experiment = experiments.run_experiment("draft:linkedin", ["v3", "v4"], talks, dataset="samples")

    assert experiment.prompt_name == "local_draft_linkedin" and experiment.provider == "local"
    assert len(experiment.cells) == 4 and {c.status for c in experiment.cells} == {"ok"}
    assert {(c.version, c.prompt_version) for c in experiment.cells} == {("v3", "v3"), ("v4", "v4")}
    for item_id in experiment.item_ids:
        side_by_side = experiment.outputs(item_id)
        assert list(side_by_side) == ["v3", "v4"] and side_by_side["v3"] != side_by_side["v4"]
        assert "#" in side_by_side["v4"].splitlines()[-1] and "#" not in side_by_side["v3"]
    scores = experiment.matrix("score")
    assert scores.loc["creator-workflow-talk"].tolist() == [100, 100]
    # v3 adds quotes, one with a statistic the guest never sources: QA flags it on the risky interview
    assert scores.loc["risky-interview", "v4"] > scores.loc["risky-interview", "v3"]
    risky_v3 = next(c for c in experiment.cells if c.version == "v3" and c.item_id == "sample:risky-interview")
    assert "unverifiable_numbers" in risky_v3.checks_failed and risky_v3.risk_flags
    assert all(c.tokens_in > 0 and c.tokens_out > 0 and c.latency_ms > 0 for c in experiment.cells)
    # the offline judge scores beside the rule score, at the version runs use now
    assert all(c.judge_score is not None and c.metrics["judge_prompt"] == "local_judge v2" for c in experiment.cells)


def test_insight_versions_differ_in_quotes_and_every_quote_is_checked_verbatim(talks):
    experiment = experiments.run_experiment("insights", ["v1", "v2"], talks)
    frame = experiment.frame()

    assert set(frame["status"]) == {"ok"} and frame["checks_passed"].min() >= 6
    quotes = {(c.version, c.item_id): c.metrics["quotes"] for c in experiment.cells}
    assert all(quotes[("v2", item)] > quotes[("v1", item)] for item in experiment.item_ids)
    first = experiment.outputs("sample:creator-workflow-talk")
    assert first["v1"].startswith("# ") and "## Quotes" in first["v1"] and first["v1"] != first["v2"]


def test_judge_versions_compare_offline_and_disagree_on_strictness(talks):
    experiment = experiments.run_experiment("qa_judge", ["v1", "v2"], talks)

    assert experiment.prompt_name == "local_judge"
    assert experiment.baseline == {
        "local_insights": "v3",
        "local_draft_newsletter": "v2",
        "local_draft_blog": "v2",
        "local_draft_x_thread": "v2",
        "local_draft_linkedin": "v4",
        "local_draft_youtube_description": "v1",
    }
    summary = experiment.summary()
    assert summary.loc["v2", "mean_judge"] < summary.loc["v1", "mean_judge"]  # v2 is the stricter rubric
    cell = experiment.cells[0]
    assert set(cell.output) == {"newsletter", "blog", "x_thread", "linkedin"}
    assert {s["criterion"] for s in cell.output["blog"]} == {
        "accuracy",
        "voice",
        "platform_fit",
        "hook",
        "clarity",
        "safety",
    }
    assert "## Blog post" in cell.output_text and cell.metrics["agrees"] is None  # samples carry no decision


def test_cells_are_stored_and_read_back_by_another_process(talks):
    ran = experiments.run_experiment("draft:x_thread", ["v1"], talks, note="baseline", dataset="samples")
    store_module.forget_stores()  # as a notebook opened later would: nothing cached in this process

    loaded = experiments.load_experiment(ran.experiment_id)
    assert loaded.cells == ran.cells and loaded.finished_at is not None and loaded.note == "baseline"
    stored = get_store().rows(
        "SELECT version, item_id, status, score, output_text FROM experiment_cells WHERE experiment_id = ?",
        [ran.experiment_id],
    )
    assert len(stored) == 2 and all(row["status"] == "ok" and "1/" in row["output_text"] for row in stored)
    listed = experiments.list_experiments(task="draft:x_thread")
    assert listed["experiment_id"].tolist() == [ran.experiment_id] and listed["cells"].tolist() == [2]
    compared = experiments.compare(ran.experiment_id, ran.experiment_id)
    assert compared.loc[(ran.experiment_id, "v1"), "cells"].tolist() == [2, 2]


def test_bad_experiments_are_refused_with_a_clear_message(talks):
    with pytest.raises(InvalidInput, match="no task named 'summary'"):
        experiments.run_experiment("summary", ["v1"], talks)
    with pytest.raises(
        InvalidInput, match=r"choose distinct versions of local_insights from v1, v2, v3 \(got v1, v7\)"
    ):
        experiments.run_experiment("insights", ["v1", "v7"], talks)
    with pytest.raises(InvalidInput, match="no items"):
        experiments.run_experiment("insights", ["v1"], [])
    with pytest.raises(InvalidInput, match="lists sample:risky-interview more than once"):
        experiments.run_experiment("insights", "v1", [*talks, talks[1]])
    with pytest.raises(InvalidInput, match="no sample named nope"):
        datasets.sample_items(["nope"])
    assert experiments.list_experiments().empty  # nothing half-made was stored


def test_experiments_on_gemini_record_tokens_cost_and_the_judge(settings, talks):
    with GeminiServer() as server:
        gemini = GeminiContentProvider(
            dataclasses.replace(settings, gemini_api_key="test-key", gemini_base_url=server.base_url, gemini_rpm=1000)
        )
        drafts = experiments.run_experiment("draft:linkedin", ["v1"], talks[:1], provider=gemini)
        judged = experiments.run_experiment("qa_judge", ["v1"], talks[:1], provider=gemini)
        tasks = [call.schema["title"] for call in server.generate_calls()]

    [cell] = drafts.cells
    assert (drafts.provider, drafts.prompt_name, cell.status) == ("gemini", "draft_linkedin", "ok")
    assert cell.tokens_in > 1000 and cell.cost_usd > 0 and cell.judge_score is not None
    assert cell.metrics["judge_prompt"] == "qa_judge v1" and cell.metrics["evaluation_cost_usd"] > 0
    [judge_cell] = judged.cells
    assert judged.prompt_name == "qa_judge" and judge_cell.status == "ok" and judge_cell.tokens_in > 0
    # the draft experiment: insights once, the draft, its judge; the judge experiment: insights, 4 drafts, 4 judges
    assert tasks.count("JudgeAnswer") == 5 and tasks.count("InsightsAnswer") == 2


# --- Labels and the runs that use them --------------------------------------------------


def test_promote_checks_the_version_and_keeps_a_history(data_dir):
    assert labels.resolve("local_draft_linkedin") == "v4"  # no label: the newest version
    assert labels.promote("local_draft_linkedin", "v3", by="ana", note="v4 drops quotes") is None
    assert labels.resolve("local_draft_linkedin") == "v3"
    assert labels.promote("local_draft_linkedin", "v4", by="ben") == "v3"
    assert labels.unpromote("local_draft_linkedin", by="ben") == "v4"
    assert labels.resolve("local_draft_linkedin") == "v4"
    assert [(h["version"], h["previous_version"], h["changed_by"]) for h in labels.history("local_draft_linkedin")] == [
        ("v3", None, "ana"),
        ("v4", "v3", "ben"),
        (None, "v4", "ben"),
    ]
    with pytest.raises(InvalidInput, match="has no version 'v9'"):
        labels.promote("local_draft_linkedin", "v9")
    with pytest.raises(InvalidInput, match="not a prompt that runs read"):
        labels.promote("transcribe", "v1")
    with pytest.raises(InvalidInput, match="'local_draft_podcast' is not a prompt"):
        labels.promote("local_draft_podcast", "v1")


def test_new_runs_use_the_promoted_version_and_record_it(cluster):
    labels.promote("local_draft_linkedin", "v3", by="tuner")
    job_id = submit("creator-workflow-talk.srt")
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]

    first_run = f"{job_id}.r1"
    assert labels.run_prompt_versions(first_run) == {
        "local_draft_blog": "v2",
        "local_draft_linkedin": "v3",
        "local_draft_newsletter": "v2",
        "local_draft_x_thread": "v2",
        "local_draft_youtube_description": "v1",
        "local_insights": "v3",
    }
    made = get_store().run(artifact_rows.load_artifact, job_id, "draft:linkedin")
    pinned = get_store().row(
        "SELECT label FROM run_prompts WHERE run_id = ? AND prompt_name = 'local_draft_linkedin'", [first_run]
    )
    assert (made["prompt_name"], made["prompt_version"], pinned["label"]) == (
        "local_draft_linkedin",
        "v3",
        "production",
    )
    assert "#" not in json.loads(made["content"])["body"]  # v3 carries no hashtags

    labels.unpromote("local_draft_linkedin")  # without a label, new runs use the newest version
    api.rerun(job_id, "drafts")
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
    remade = get_store().run(artifact_rows.load_artifact, job_id, "draft:linkedin")
    assert (remade["run_id"], remade["prompt_version"]) == (f"{job_id}.r2", "v4")
    assert labels.run_prompt_versions(f"{job_id}.r2")["local_draft_linkedin"] == "v4"
    assert labels.run_prompt_versions(first_run)["local_draft_linkedin"] == "v3"  # history stays as it was


def test_a_gemini_run_pins_every_prompt_it_reads_judge_included(data_dir):
    labels.promote("qa_judge", "v1", by="tuner")
    with get_store().session() as db:
        pins = labels.pin_run_prompts(db, "job_x.r1", GeminiContentProvider)
        again = labels.pin_run_prompts(db, "job_x.r1", GeminiContentProvider)
        rows = db.rows("SELECT prompt_name, label FROM run_prompts WHERE run_id = 'job_x.r1' ORDER BY prompt_name")
    assert (
        pins
        == again
        == {
            "draft_blog": "v2",
            "draft_linkedin": "v2",
            "draft_newsletter": "v2",
            "draft_x_thread": "v2",
            "draft_youtube_description": "v1",
            "insights": "v2",
            "qa_judge": "v1",
        }
    )
    assert [(r["prompt_name"], r["label"]) for r in rows if r["label"]] == [("qa_judge", "production")]


# --- Editors' decisions as an evaluation dataset -----------------------------------------


def _flagged_job(tone: str) -> str:
    job_id = submit("risky-interview.srt", tone=tone)
    assert api.wait_for(job_id, timeout=120)["status"] == "REQUIRES_MANUAL_REVIEW"
    return job_id


def test_editors_decisions_become_an_evaluation_dataset(cluster, tmp_path):
    approved, rejected = _flagged_job("friendly"), _flagged_job("bold")
    edited = "I rewrote this post myself.\n\nOne idea from the talk: a clear promise beats a clever name."
    api.edit_draft(approved, "linkedin", title="My LinkedIn post", body=edited, caller=Caller.local("ana"))
    api.approve(approved, caller=Caller.local("ana"), note="numbers checked with the guest")
    api.reject(rejected, reason="the 93% figure has no source", caller=Caller.local("ben"))
    assert api.wait_for(approved, timeout=120)["status"] == "ANALYTICS_LOGGED"

    path = evaluation.export_decisions(tmp_path / "decisions.jsonl")
    records = {r["job_id"]: r for r in map(json.loads, path.read_text().splitlines())}
    assert set(records) == {approved, rejected}
    yes, no = records[approved], records[rejected]
    assert (yes["decision"], yes["reason"], yes["editor"]) == ("approved", "numbers checked with the guest", "ana")
    assert (no["decision"], no["reason"], no["editor"]) == ("rejected", "the 93% figure has no source", "ben")
    assert "instruction-like line" in no["flagged_because"]
    linkedin = yes["drafts"]["linkedin"]
    assert linkedin["final"]["body"] == edited and linkedin["edited"] and linkedin["similarity"] < 0.5
    assert linkedin["generated"]["prompt_name"] == "local_draft_linkedin" and linkedin["generated"]["body"] != edited
    untouched = no["drafts"]["blog"]
    assert not untouched["edited"] and untouched["similarity"] == 1.0 and untouched["final"]["source"] == "generated"
    assert yes["prompt_versions"]["local_insights"] == "v3" and yes["transcript"]["segments"]

    items = datasets.evaluation_items(path)
    assert {(i.item_id, i.decision) for i in items} == {
        (f"eval:{approved}", "approved"),
        (f"eval:{rejected}", "rejected"),
    }
    tuned = experiments.run_experiment("draft:linkedin", ["v3", "v4"], items, dataset="evaluation")
    similarity = {(c.version, c.item_id.removeprefix("eval:")): c.metrics["editor_similarity"] for c in tuned.cells}
    assert similarity[("v3", approved)] < 0.5 and similarity[("v4", approved)] < 0.5  # the editor rewrote it
    # the rejected post was left as v4 wrote it: v4 writes it again word for word, v3 does not
    assert similarity[("v4", rejected)] == 1.0 and similarity[("v3", rejected)] < 1.0
    judged = experiments.run_experiment("qa_judge", ["v1"], items, dataset="evaluation")
    assert {c.metrics["decision"] for c in judged.cells} == {"approved", "rejected"}
    assert all(c.metrics["agrees"] in (True, False) for c in judged.cells)
    assert judged.summary().loc["v1", "agreement"] is not None

    runs = datasets.run_items()
    assert {i.item_id: i.decision for i in runs} == {f"run:{approved}": "approved", f"run:{rejected}": "rejected"}
    assert all(i.insights and set(i.drafts) == {"newsletter", "blog", "x_thread", "linkedin"} for i in runs)


def test_an_evaluation_file_that_is_not_one_is_refused(tmp_path, data_dir):
    with pytest.raises(InvalidInput, match="no evaluation export yet"):
        datasets.evaluation_items()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"job_id": "job_1"}\nnot json\n')
    with pytest.raises(InvalidInput, match=r"broken.jsonl:1 is not an evaluation record \(missing decision"):
        evaluation.load_decisions(broken)
    empty = evaluation.export_decisions()
    assert empty.read_text() == "" and evaluation.latest_export() == empty and datasets.evaluation_items() == []


# --- Command line -------------------------------------------------------------------------


def test_cli_lists_and_promotes_prompt_versions(data_dir):
    promoted = cli("prompts", "promote", "local_draft_linkedin", "v1", "--by", "ana")
    assert (
        promoted.returncode == 0 and "local_draft_linkedin production = v1 (was the newest version)" in promoted.stdout
    )

    listing = cli("prompts", "list")
    line = next(row for row in listing.stdout.splitlines() if row.startswith("local_draft_linkedin"))
    assert line.split()[:6] == ["local_draft_linkedin", "v1,", "v2,", "v3,", "v4", "v1"] and "production=v1" in line
    rows = {row["prompt"]: row for row in json.loads(cli("prompts", "list", "--json").stdout)}
    assert rows["local_insights"]["in_use"] == "v3" and rows["draft_linkedin"]["tasks"] == ["draft:linkedin"]
    assert rows["transcribe"]["in_use"] is None

    assert_one_line_error(cli("prompts", "promote", "local_draft_linkedin", "v9"), "has no version 'v9'")
    assert_one_line_error(
        cli("prompts", "promote", "local_draft_linkedin", "v1", "--label", "Prod!"), "a label is lower-case"
    )
    exported = cli("eval-export", "--out", str(data_dir / "decisions.jsonl"))
    assert exported.returncode == 0 and "wrote 0 editor decision(s)" in exported.stdout
