"""QA runs again on every saved edit: an editor who pushes a post over its platform's limit sees
the score fall and the draft flagged, and a fixed post gets its score back."""

from __future__ import annotations

from pipeline import api, views
from pipeline.access import Caller
from tests.conftest import SAMPLES


def review_of(job_id: str, fmt: str):
    report = views.run_tab(job_id, "QA")["qa_report"]
    return views.draft_review(job_id, fmt), report


def test_a_saved_edit_over_the_limit_loses_its_score_and_is_flagged(cluster):
    path = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name).job_id
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]
    before, _ = review_of(job_id, "linkedin")
    assert before.score == 100 and api.status_report(job_id)["qa_score"] == 100

    long_post = ("Plan the clips before you press record, not after you've forgotten what you said. " * 45).strip()
    assert len(long_post) > 3000
    api.edit_draft(job_id, "linkedin", title="Too long", body=long_post, caller=Caller.local("maya"))
    after, report = review_of(job_id, "linkedin")
    limits = next(c for c in after.checks if c.name == "platform_limits")
    assert not limits.passed and "3,000" in limits.reason and after.requires_review and after.score < before.score
    assert after.fixes == []  # the editor's text is checked, never rewritten
    assert report.requires_review and api.status_report(job_id)["qa_score"] == after.score

    latest = views.run_tab(job_id, "Drafts")["drafts"]["x_thread"][-1]
    posts = list(latest["draft"].posts)
    posts[1] = posts[1] + " " + "And one more thought that runs on and on. " * 6
    assert len(posts[1]) > 280
    api.edit_draft(job_id, "x_thread", **views.draft_fields("x_thread", "Thread", "\n---\n".join(posts)))
    thread, _ = review_of(job_id, "x_thread")
    assert thread.requires_review and any("post 2 has" in flag for flag in thread.risk_flags)

    api.edit_draft(
        job_id, "linkedin", title="Fixed", body=long_post[:900].rsplit(".", 1)[0] + ".", caller=Caller.local("maya")
    )
    fixed, _ = review_of(job_id, "linkedin")
    assert next(c for c in fixed.checks if c.name == "platform_limits").passed
