"""Each page's logic through Streamlit's AppTest, on a real DuckDB file.

Jobs are processed by the real runner in this process (``drain``: every queued step attempt
runs until none is left, as a burst worker would), so the pages show real transcripts, insight
packs, drafts and QA reports without starting Redis or worker processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline import api, defaults, people, views
from pipeline.access import Caller
from pipeline.models import DraftFormat, JobOptions
from pipeline.process import forget_cached_state
from pipeline.runner import run_queued
from pipeline.stages import PIPELINE
from pipeline.store import artifacts as artifact_rows
from pipeline.store import get_store
from pipeline.store import jobs as job_rows
from tests.support.login import write_login_secrets

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
APP = "../app.py"


def processed(name: str, **options) -> str:
    path = SAMPLES / name
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=name, options=JobOptions(**options)).job_id
    run_queued()
    return job_id


def status_of(job_id: str) -> str:
    with get_store().session() as db:
        return job_rows.get_job(db, job_id)["status"]


def open_page(page: str, user: dict | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.user = user
    at.run()  # the app registers its pages (st.navigation) on the first run
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(element.value) for element in getattr(at, kind)]


def frame(at: AppTest, *columns: str):
    """The first table showing these columns (display tables carry no key in AppTest)."""
    for table in at.dataframe:
        if set(columns) <= set(table.value.columns):
            return table.value
    raise AssertionError(f"no table with columns {columns}")


def all_text(at: AppTest) -> str:
    kinds = ("title", "header", "subheader", "caption", "markdown", "info", "success", "warning", "error", "code")
    return "\n".join(text for kind in kinds for text in texts(at, kind))


@pytest.fixture
def login(data_dir):
    """Configure a login (as ``.streamlit/secrets.toml`` does) and make ``email`` a member of the
    default workspace with ``role``; returns what AppTest shows the app as ``st.user``."""
    write_login_secrets(data_dir.parent)
    forget_cached_state()

    def member(email: str, role: str) -> dict:
        people.invite(defaults.DEFAULT_WORKSPACE, email, role)
        people.sign_in(email)
        return {"is_logged_in": True, "email": email, "name": email.split("@")[0]}

    return member


@pytest.fixture
def talk() -> str:
    return processed("creator-workflow-talk.srt")


@pytest.fixture
def flagged() -> str:
    job_id = processed("risky-interview.srt")
    assert status_of(job_id) == "REQUIRES_MANUAL_REVIEW"
    return job_id


# --- Sidebar -----------------------------------------------------------------------------


def test_sidebar_shows_workspace_plan_usage_services_and_provider(talk):
    at = AppTest.from_file(APP, default_timeout=60).run()  # AppTest drops the sidebar after switch_page
    sidebar = "\n".join(str(e.value) for e in at.sidebar.markdown) + "\n".join(str(e.value) for e in at.sidebar.caption)
    assert at.selectbox(key="workspace").value == "default"
    assert "14 of 600 min used this month (creator plan)" in [p.proto.text for p in at.sidebar.get("progress")]
    assert "Redis down" in sidebar and "no worker alive" in sidebar  # nothing runs in this test
    assert "offline" in sidebar
    assert "Local mode: no login configured" in sidebar and "listens on 127.0.0.1 only" in sidebar


# --- Submit ------------------------------------------------------------------------------


def jobs_in_store() -> list[dict]:
    with get_store().session() as db:
        return db.rows("SELECT job_id, source, options FROM jobs ORDER BY created_at")


def test_one_click_sample_submits_the_bundled_talk():
    at = open_page("pages/submit.py")
    at.button(key="run_sample").click().run()
    [job] = jobs_in_store()
    assert job["source"] == "creator-workflow-talk.srt"
    assert f"Submitted job {job['job_id']}." in texts(at, "success")
    assert "No worker is running" in texts(at, "warning")[0]


def test_uploaded_transcript_shows_its_estimate_and_submits_with_options():
    at = open_page("pages/submit.py")
    at.file_uploader(key="transcript_file").set_value(
        ("risky-interview.srt", (SAMPLES / "risky-interview.srt").read_bytes(), "text/plain")
    )
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["Minutes"] == "4.7" and metrics["Left this month"] == "600 min" and metrics["Estimated cost"] == "$0.00"
    )
    at.multiselect(key="formats").set_value(["linkedin", "x_thread"])
    at.selectbox(key="tone").set_value("bold")
    at.text_input(key="cta").input("https://example.com/newsletter")
    at.button(key="submit").click().run()
    [job] = jobs_in_store()
    assert job["source"] == "risky-interview.srt"
    assert JobOptions.model_validate_json(job["options"]) == JobOptions(
        formats=["x_thread", "linkedin"], tone="bold", cta_url="https://example.com/newsletter"
    )


def test_over_quota_transcript_is_refused_next_to_the_field():
    api.configure_workspace("default", plan="free")
    at = open_page("pages/submit.py")
    at.radio(key="submit_kind").set_value("Pasted transcript").run()
    at.text_area(key="transcript_text").input((SAMPLES / "long-workshop.srt").read_text()).run()
    assert "this video is 60 min; the free plan takes videos up to 20 min" in texts(at, "error")[0]
    at.button(key="submit").click().run()
    assert jobs_in_store() == []


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("ftp://example.com/talk.mp4", "only http and https links"),
        ("http://127.0.0.1/talk.mp4", "private or reserved network address"),
        ("/etc/passwd", "the link has no host name"),  # never read as a file on the server
    ],
)
def test_bad_links_get_a_clear_error_and_no_job(link, message):
    at = open_page("pages/submit.py")
    at.radio(key="submit_kind").set_value("Video link").run()
    at.text_input(key="video_link").input(link)
    at.button(key="submit").click().run()
    assert any(message in error for error in texts(at, "error")), texts(at, "error")
    assert jobs_in_store() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cta", "example", "the call-to-action link must be a web address"),
        ("formats", [], "choose at least one draft"),
    ],
)
def test_unusable_options_are_explained(field, value, message):
    at = open_page("pages/submit.py")
    at.radio(key="submit_kind").set_value("Pasted transcript").run()
    at.text_area(key="transcript_text").input((SAMPLES / "creator-workflow-talk.txt").read_text())
    widget = at.multiselect(key=field) if field == "formats" else at.text_input(key=field)
    widget.set_value(value)
    at.button(key="submit").click().run()
    assert any(message in error for error in texts(at, "error"))
    assert jobs_in_store() == []


def test_unreadable_transcript_is_an_error_at_the_field():
    at = open_page("pages/submit.py")
    at.file_uploader(key="transcript_file").set_value(("talk.srt", b"\x00\x01binary", "text/plain"))
    at.run()
    assert "binary file" in texts(at, "error")[0]


# --- Runs --------------------------------------------------------------------------------


def seed_jobs(count: int) -> list[str]:
    """``count`` jobs straight into the store (newest last); every tenth failed."""
    ids = []
    with get_store().session() as db:
        for i in range(count):
            job = job_rows.create_job(
                db,
                workspace="default",
                source_kind="transcript",
                source=f"talk-{i:03d}.srt",
                options={},
                dedupe_key=f"k{i}",
                actor="test",
            )
            job_rows.update_job(db, job["job_id"], title=f"Talk {i:03d}")
            if i % 10 == 0:
                job_rows.set_status(db, job["job_id"], "FAILED", reason="test failure", error_code="GENERATION_FAILED")
            ids.append(job["job_id"])
    return ids


def table(at: AppTest):
    return at.dataframe(key="runs_table").value


def test_runs_pages_through_jobs_newest_first():
    ids = seed_jobs(120)
    at = open_page("pages/runs.py")
    assert "Page 1 of 3 · 120 jobs" in texts(at, "caption")
    assert list(table(at)["job_id"]) == ids[::-1][:50]
    at.button(key="runs_older").click().run()
    assert "Page 2 of 3 · 120 jobs" in texts(at, "caption")
    assert list(table(at)["job_id"]) == ids[::-1][50:100]


def test_runs_filters_by_status_and_text():
    ids = seed_jobs(40)
    at = open_page("pages/runs.py")
    at.multiselect(key="runs_status").set_value(["FAILED"]).run()
    assert set(table(at)["job_id"]) == {ids[0], ids[10], ids[20], ids[30]}
    assert "Page 1 of 1 · 4 jobs" in texts(at, "caption")
    at.text_input(key="runs_text").input("talk 02").run()
    assert list(table(at)["job_id"]) == [ids[20]]


def test_runs_shows_progress_and_cancels_a_running_job():
    job_id = api.submit(
        transcript=(SAMPLES / "creator-workflow-talk.srt").read_bytes(), transcript_name="creator-workflow-talk.srt"
    ).job_id
    at = open_page("pages/runs.py")
    row = table(at).iloc[0]
    assert row["status"] == "RECEIVED" and row["progress"] == 0.0 and row["now"] == "validate queued"
    at.selectbox(key="runs_job").set_value(job_id).run()
    at.button(key="runs_cancel").click().run()
    assert status_of(job_id) == "FAILED"
    assert table(at).iloc[0]["status"] == "FAILED"
    assert not at.button(key="runs_retry").disabled


def test_runs_retries_a_failed_job_from_the_failed_step():
    [job_id] = seed_jobs(1)
    at = open_page("pages/runs.py")
    at.selectbox(key="runs_job").set_value(job_id).run()
    at.button(key="runs_retry").click().run()
    assert status_of(job_id) == "RECEIVED"
    assert table(at).iloc[0]["now"] == "validate queued"


# --- Run detail --------------------------------------------------------------------------


def test_run_detail_opens_on_the_drafts_of_a_finished_job_and_the_timeline_of_a_failed_one(talk):
    at = open_page("pages/run_detail.py", job=talk)
    assert at.session_state["tab"] == "Drafts" and len(at.get("plotly_chart")) == 0
    [failed] = seed_jobs(1)
    at = open_page("pages/run_detail.py", job=failed)
    assert at.session_state["tab"] == "Timeline"


def test_run_detail_shows_what_the_source_said_about_itself(talk):
    with get_store().session() as db:
        job_rows.update_job(
            db,
            talk,
            metadata={
                "channel": "Maya Makes Videos",
                "upload_date": "20260314",
                "webpage_url": "https://www.youtube.com/watch?v=abc123def45",
            },
        )
    at = open_page("pages/run_detail.py", job=talk)
    captions = " ".join(c.value for c in at.caption)
    assert "channel Maya Makes Videos" in captions and "uploaded 2026-03-14" in captions
    assert "https://www.youtube.com/watch?v=abc123def45" in captions


def test_run_detail_shows_timeline_logs_and_status_changes(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="Timeline")
    assert texts(at, "title") == ["Creator workflow talk"]
    assert at.metric[0].value == "ANALYTICS_LOGGED"
    assert len(at.get("plotly_chart")) == 1
    log = frame(at, "logged_at", "step")
    assert {"validate", "insights", "deliver"} <= set(log["step"])
    at.multiselect(key="log_steps").set_value(["deliver"]).run()
    assert set(frame(at, "logged_at", "step")["step"]) == {"deliver"}
    trail = frame(at, "changed_at", "to_status")
    assert list(trail["to_status"])[-1] == "ANALYTICS_LOGGED"


def test_transcript_moment_search_and_downloads(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="Transcript", t="120")
    moment = texts(at, "info")[0]
    assert "**2:0" in moment or "**1:5" in moment  # the segment spoken at 2:00, in bold
    assert {b.proto.label for b in at.download_button} == {"Download .srt", "Download .vtt", "Download .txt"}
    at.text_input(key="transcript_search").input("newsletter").run()
    shown = frame(at, "time", "speaker", "text")
    assert len(shown) > 0 and all("newsletter" in text.lower() for text in shown["text"])
    assert any(c.startswith(f"{len(shown)} of 145 segments") for c in texts(at, "caption"))


def test_quotes_link_to_their_moment_in_the_transcript(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="Insights")
    links = [link for link in at.get("page_link") if "“" in link.proto.label]
    assert links
    first = links[0].proto
    assert "tab=Transcript" in first.query_string and f"job={talk}" in first.query_string and "t=" in first.query_string


def open_draft(at: AppTest, fmt: str) -> AppTest:
    at.session_state["draft_format"] = DraftFormat(fmt).label
    return at.run()


def draft_area(at: AppTest, fmt: str):
    [area] = [a for a in at.text_area if a.key.startswith("text:run:") and f":{fmt}:" in a.key]
    return area


def edit(at: AppTest, fmt: str, text: str) -> AppTest:
    open_draft(at, fmt)
    draft_area(at, fmt).input(text)
    [save] = [b for b in at.button if b.label.startswith("Save") and fmt.replace("_", " ") in b.label.lower()]
    return save.click().run()


def test_editing_a_draft_saves_a_new_version_with_its_author_and_a_diff(talk, login):
    at = open_page("pages/run_detail.py", user=login("maya@example.com", "editor"), job=talk, tab="Drafts")
    edit(at, "linkedin", "Ten posts from one talk: here is how.\n\nRead the full guide.")
    assert "Saved the LinkedIn post as version 2 (by maya@example.com)." in texts(at, "success")
    with get_store().session() as db:
        history = artifact_rows.draft_history(db, talk, "linkedin")
    assert [(v["version"], v["source"], v["author"]) for v in history] == [
        (1, "generated", "clipinsight"),
        (2, "edit", "maya@example.com"),
    ]
    assert history[-1]["body"].startswith("Ten posts from one talk")
    shown = [table.value for table in at.table if "author" in table.value.columns]
    authors, sources = ["clipinsight", "maya@example.com"], ["generated", "edit"]
    assert any(list(t["author"]) == authors and list(t["source"]) == sources for t in shown)
    diff = [c for c in texts(at, "code") if "+++ version 2" in c]
    assert diff and "+Ten posts from one talk: here is how." in diff[0]


def test_unsaved_text_survives_switching_drafts_and_tabs(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="Drafts")
    open_draft(at, "linkedin")
    draft_area(at, "linkedin").input("Half-written thought").run()
    open_draft(at, "blog")
    assert [a for a in at.text_area if ":linkedin:" in a.key] == []  # only the open draft is drawn
    at.session_state["tab"] = "QA"
    at.run()
    at.session_state["tab"] = "Drafts"
    at.run()
    assert draft_area(open_draft(at, "linkedin"), "linkedin").value == "Half-written thought"


def test_editing_a_thread_keeps_its_posts():
    job_id = processed("creator-workflow-talk.srt", formats=["x_thread"])
    at = open_page("pages/run_detail.py", job=job_id, tab="Drafts")
    edit(at, "x_thread", "1/2 First post.\n---\n2/2 Second post.")
    with get_store().session() as db:
        latest = artifact_rows.latest_drafts(db, job_id)["x_thread"]
    assert latest["posts"] == ["1/2 First post.", "2/2 Second post."]


def test_a_draft_saved_by_someone_else_meanwhile_is_a_conflict_not_an_overwrite(talk):
    at = open_draft(open_page("pages/run_detail.py", job=talk, tab="Drafts"), "linkedin")  # opens version 1
    api.edit_draft(talk, "linkedin", title="Theirs", body="Their careful edit.", caller=Caller.local("Sam"))
    edit(at, "linkedin", "My quick edit.")
    assert any("Not saved:" in e and "saved by Sam (version 2)" in e for e in texts(at, "error"))
    with get_store().session() as db:
        latest = artifact_rows.latest_drafts(db, talk)["linkedin"]
    assert (latest["version"], latest["body"], latest["author"]) == (2, "Their careful edit.", "Sam")
    assert any("-Their careful edit." in c and "+My quick edit." in c for c in texts(at, "code"))
    [mine] = [a for a in at.text_area if a.key == f"text:run:{talk}:linkedin:v1"]
    assert mine.value == "My quick edit."  # nothing typed is lost
    at.button(key=f"reload:{talk}:linkedin").click().run()
    [theirs] = [a for a in at.text_area if a.key == f"text:run:{talk}:linkedin:v2"]
    assert theirs.value == "Their careful edit."


def test_rerun_from_a_step_starts_a_new_run_from_there(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="Timeline")
    at.selectbox(key="rerun_stage").set_value("drafts").run()
    at.button(key="rerun").click().run()
    assert status_of(talk) == "INSIGHTS"
    assert "Re-running from drafts; the job is now INSIGHTS." in texts(at, "success")
    run_queued()
    with get_store().session() as db:
        reran = db.rows("SELECT DISTINCT step FROM run_steps WHERE run_id = ?", [f"{talk}.r2"])
    assert {row["step"] for row in reran} == {
        "draft:newsletter",
        "draft:blog",
        "draft:x_thread",
        "draft:linkedin",
        "qa_review",
        "deliver",
    }


def waiting_for_a_transcript() -> str:
    with get_store().session() as db:
        job = job_rows.create_job(
            db,
            workspace="default",
            source_kind="youtube",
            options={},
            dedupe_key="k",
            source="https://www.youtube.com/watch?v=abcdefghijk",
            actor="test",
        )
        run = job_rows.create_run(db, job["job_id"], "validate", "submitted")
        for status in ("VALIDATED", "INGESTED", "NEEDS_USER_INPUT"):
            job_rows.set_status(db, job["job_id"], status, run_id=run["run_id"], reason="the captions cover 20%")
    return job["job_id"]


def test_a_job_waiting_for_a_transcript_takes_one_from_the_page():
    job_id = waiting_for_a_transcript()
    at = open_page("pages/run_detail.py", job=job_id)
    [submit] = [b for b in at.button if b.label == "Continue with this transcript"]
    submit.click().run()
    assert "Choose the transcript file first." in texts(at, "error")
    at.file_uploader(key="provide_file").set_value(
        ("fixed.srt", (SAMPLES / "risky-interview.srt").read_bytes(), "text/plain")
    )
    [submit] = [b for b in at.button if b.label == "Continue with this transcript"]
    submit.click().run()
    assert status_of(job_id) == "INGESTED"
    assert "Transcript fixed.srt provided; the job is now INGESTED." in texts(at, "success")
    with get_store().session() as db:
        queued = db.rows("SELECT step, run_id FROM run_steps WHERE job_id = ? AND status = 'queued'", [job_id])
    assert queued == [{"step": "transcribe", "run_id": f"{job_id}.r2"}]


def test_qa_tab_and_downloads(talk):
    at = open_page("pages/run_detail.py", job=talk, tab="QA")
    assert len(at.get("plotly_chart")) == 1 and len(at.expander) == 4
    at = open_page("pages/run_detail.py", job=talk, tab="Downloads")
    labels = [b.proto.label for b in at.download_button]
    assert "Download the whole bundle (.zip)" in labels
    assert any(label.startswith("LinkedIn post (.md, version 1)") for label in labels)
    assert any(label.startswith("insights (") and "local" in label for label in labels)


def test_unknown_job_is_a_clear_error():
    at = open_page("pages/run_detail.py", job="job_nope")
    assert texts(at, "error") == ["no job with id job_nope"]


# --- Review ------------------------------------------------------------------------------


def test_review_queue_shows_flags_beside_their_transcript_evidence(flagged):
    at = open_page("pages/review.py")
    assert list(frame(at, "waiting_since")["job_id"]) == [flagged]
    assert any("93%" in e for e in texts(at, "error"))
    assert any("93% of readers never open a second email" in m for m in texts(at, "markdown"))


def test_approve_sends_the_job_on_to_delivery_and_records_who(flagged, login):
    at = open_page("pages/review.py", user=login("maya@example.com", "editor"))
    at.text_input(key="approve_note").input("stat checked with the guest")
    [approve] = [b for b in at.button if b.label.startswith("Approve")]
    approve.click().run()
    assert status_of(flagged) == "REVIEWED"
    assert "Nothing waits for review." in texts(at, "success")
    run_queued()
    assert status_of(flagged) == "ANALYTICS_LOGGED"
    with get_store().session() as db:
        review = db.row("SELECT decision, editor, reason FROM reviews WHERE job_id = ?", [flagged])
        approval = db.row("SELECT actor, reason FROM status_changes WHERE job_id = ? AND move = 'approve'", [flagged])
    assert review == {"decision": "approved", "editor": "maya@example.com", "reason": "stat checked with the guest"}
    assert approval == {"actor": "maya@example.com", "reason": "stat checked with the guest"}
    at.run()
    recent = at.table[0].value
    assert list(recent[["job_id", "decision", "editor", "status now"]].iloc[0]) == [
        flagged,
        "approved",
        "maya@example.com",
        "ANALYTICS_LOGGED",
    ]


def test_reject_needs_a_reason(flagged):
    at = open_page("pages/review.py")
    [reject] = [b for b in at.button if b.label == "Reject"]
    reject.click().run()
    assert any("Say why the drafts are rejected" in e for e in texts(at, "error"))
    assert status_of(flagged) == "REQUIRES_MANUAL_REVIEW"
    at.text_input(key="reject_reason").input("the statistic is made up")
    [reject] = [b for b in at.button if b.label == "Reject"]
    reject.click().run()
    with get_store().session() as db:
        job = job_rows.get_job(db, flagged)
    assert (job["status"], job["error_code"], job["status_reason"]) == (
        "FAILED",
        "REJECTED",
        "rejected: the statistic is made up",
    )


def test_review_queue_is_oldest_first(flagged):
    newer = processed("risky-interview.vtt")
    at = open_page("pages/review.py")
    assert list(frame(at, "waiting_since")["job_id"]) == [flagged, newer]
    assert at.selectbox(key="review_job").value == flagged


# --- Analytics ---------------------------------------------------------------------------


def test_analytics_charts_the_runs(talk, flagged):
    at = open_page("pages/analytics.py")
    assert len(at.get("plotly_chart")) == 4  # failure reasons: none yet
    assert "No failed attempt in this period." in texts(at, "caption")
    usage = frame(at, "workspace", "minutes")
    assert usage.iloc[0]["workspace"] == "default" and usage.iloc[0]["minutes"] == pytest.approx(14.1, abs=0.2)


def test_analytics_on_an_empty_workspace_says_so():
    at = open_page("pages/analytics.py")
    assert not at.get("plotly_chart")
    assert "No job in this period." in texts(at, "caption")


# --- Views used by the pages -------------------------------------------------------------


def test_progress_counts_finished_stages_and_the_running_share():
    assert views.job_progress("RECEIVED", [{"step": "validate", "status": "queued", "attempt": 1}], {}) == 0.0
    drafts = [{"step": f"draft:{f}", "status": "running", "attempt": 1} for f in ("blog", "linkedin")]
    live = {"draft:newsletter": 1.0, "draft:x_thread": 1.0, "draft:blog": 0.5}
    weights = {stage.name: stage.weight for stage in PIPELINE.stages}  # the table weighs each stage
    before = sum(weights[name] for name in ("validate", "ingest", "transcribe", "insights"))
    expected = (before + weights["drafts"] * 2.5 / 4) / sum(weights.values())  # 2 of 4 drafts done, 1 halfway
    assert views.job_progress("INSIGHTS", drafts, live) == pytest.approx(expected, abs=1e-3)
    assert views.job_progress("ANALYTICS_LOGGED", [], {}) == 1.0
    assert views.job_progress("FAILED", [], {}) is None


def test_youtube_sources_link_to_the_second():
    job = {"source_kind": "youtube", "source": "https://www.youtube.com/watch?v=abcdefghijk", "metadata": {}}
    assert views.source_link(job, 125.7) == "https://www.youtube.com/watch?v=abcdefghijk&t=125s"
    assert views.source_link({"source_kind": "transcript", "source": "a.srt"}, 3) is None
