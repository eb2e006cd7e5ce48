"""The words people read for the product's codes (``pipeline.wording``)."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline import wording
from pipeline.errors import ErrorCode
from pipeline.stages import JobStatus


def test_every_status_has_words_and_none_of_them_is_a_code():
    codes = {status.value for status in JobStatus}
    for status in JobStatus:
        words = wording.status_words(status)
        assert words.label and words.icon.startswith(":material/") and words.symbol
        assert not any(code in words.label for code in codes)


def test_the_statuses_a_creator_meets_read_as_plain_words():
    label = {status: wording.status_words(status).label for status in JobStatus}
    assert label[JobStatus.RECEIVED] == "Queued"
    assert label[JobStatus.INGESTED] == "Transcribing"
    assert label[JobStatus.INSIGHTS] == "Writing drafts"
    assert label[JobStatus.REQUIRES_MANUAL_REVIEW] == "In review"
    assert label[JobStatus.NEEDS_USER_INPUT] == "Needs your transcript"
    assert label[JobStatus.ANALYTICS_LOGGED] == "Done"
    assert label[JobStatus.FAILED] == "Failed"


def test_a_job_a_person_ended_reads_as_what_they_did():
    assert wording.status_words("FAILED", "CANCELLED").label == "Cancelled"
    assert wording.status_words("FAILED", "REJECTED").label == "Rejected"
    assert wording.status_words("FAILED", "GENERATION_FAILED").label == "Failed"
    assert wording.status_text("ANALYTICS_LOGGED", approved_by="Maya") == "✓ Done · approved by Maya"


def test_the_legend_keeps_every_code_for_the_tooltip():
    legend = wording.status_legend()
    assert all(status.value in legend for status in JobStatus)


def test_a_status_filter_by_words_is_a_filter_by_codes():
    assert wording.status_labels()[0] == "Queued"
    assert wording.statuses_labelled(["Delivering"]) == ["REVIEWED", "DELIVERED", "STORED"]
    assert wording.statuses_labelled(["Failed"]) == ["FAILED", "FAILED_VALIDATION"]


def test_every_error_code_has_a_reason_and_a_new_one_still_reads():
    for code in ErrorCode:
        assert wording.reason_words(code.value) != code.value
    assert wording.reason_words("SOMETHING_NEW") == "Something new"
    assert wording.reason_words(None) == "Unknown"


def test_steps_read_as_what_they_do():
    """The words come from the pipeline table (a stage's activity) and the format specs (a label)."""
    assert wording.step_words("draft:x_thread") == "writing drafts: X thread"
    assert wording.step_words("qa_review") == "reviewing the drafts"
    assert wording.step_words("drafts") == "writing drafts"  # the stage itself, offered by re-run
    assert wording.step_words("draft:youtube_description") == "writing drafts: YouTube description"
    assert wording.step_words("translate") == "translate"  # a step this table does not know


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "—"), (float("nan"), "—"), (0, "0:00"), (65.4, "1:05"), (3599.6, "1:00:00"), (3606, "1:00:06")],
)
def test_lengths_read_as_minutes_and_seconds(seconds, shown):
    assert wording.duration(seconds) == shown


def test_moments_are_shown_in_the_viewers_time_zone():
    utc = datetime(2026, 3, 14, 13, 5)  # the store keeps naive UTC
    assert wording.local_time(utc, wording.viewer_zone("Europe/Berlin")) == "Mar 14, 2026 14:05"
    assert wording.local_time(utc, wording.viewer_zone("Asia/Kolkata")) == "Mar 14, 2026 18:35"
    assert wording.local_time(utc, wording.viewer_zone(None)) == "Mar 14, 2026 13:05"
    assert wording.viewer_zone("Not/AZone").key == "UTC"
    assert wording.local_date(datetime(2026, 3, 14, 23, 30), wording.viewer_zone("Asia/Tokyo")) == "Mar 15, 2026"
