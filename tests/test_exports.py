"""Exports per platform, as a creator pastes them: an X thread as posts (numbering optional, no
timestamps unless asked), a LinkedIn post and a YouTube description as plain text, a newsletter
and a blog post as Markdown and HTML, the bundle zip with them all — and the run page's
Downloads tab offering each. Drafts here carry the defects an editor or a model can leave in
them (headings, separators, video timestamps, a post past the limit, markup)."""

from __future__ import annotations

import io
import re
import zipfile

from streamlit.testing.v1 import AppTest

from pipeline import api, export, formats, views
from pipeline.models import Draft
from pipeline.options import JobOptions
from pipeline.runner import run_queued
from tests.conftest import SAMPLES

TIMESTAMP = re.compile(r"\b\d{1,2}:\d{2}\b")
HEADING = re.compile(r"^\s*#{1,6}\s", re.MULTILINE)
NUMBER = re.compile(r"^(\d+)/(\d+) ")

#: A thread as an editor may save it: a heading, video timestamps, a post of two paragraphs,
#: a post far past 280 characters (saved after the confirmation), and a post that is only a heading.
MESSY_POSTS = [
    "1/5 # Why I plan first (0:45)",
    "2/5 At [2:05] I said it: plan the clips before you press record.\n\nThe rest follows.",
    "3/5 " + " ".join(f"Sentence {n} of a long post that runs past the limit (12:30)." for n in range(1, 9)),
    "4/5 ## ",
    "5/5 Watch the whole talk at 1:02:03 for the details.",
]


def processed(**options) -> str:
    path = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id
    run_queued()
    return job_id


def pasted(thread_file: str) -> list[str]:
    """The file as a creator pastes it: one post per block."""
    return [post for post in thread_file.split("\n\n") if post.strip()]


def test_the_x_thread_file_pastes_post_by_post_within_280_without_headings_or_timestamps():
    job_id = processed(formats=["x_thread"])
    api.edit_draft(job_id, "x_thread", title="Thread", body="\n\n".join(MESSY_POSTS), posts=MESSY_POSTS)
    posts = pasted(api.bundle_files_for(job_id)["drafts/x_thread.txt"])

    assert len(posts) >= 5  # the long post became posts that fit; the heading-only post is gone
    for number, post in enumerate(posts, 1):
        assert len(post) <= 280, post
        assert not HEADING.search(post) and not TIMESTAMP.search(post), post
        assert NUMBER.match(post).groups() == (str(number), str(len(posts))), post  # numbered from scratch
        assert "\n\n" not in post
    assert posts[0] == f"1/{len(posts)} Why I plan first"
    assert any(post.endswith("plan the clips before you press record.\nThe rest follows.") for post in posts)


def test_thread_numbering_is_optional_and_timestamps_stay_only_when_asked():
    draft = Draft(format="x_thread", title="T", body="\n\n".join(MESSY_POSTS), posts=MESSY_POSTS)
    [(name, _, thread)] = export.draft_exports(draft)
    assert name == "x_thread.txt" and {c.name: c.default for c in thread.choices} == {
        "numbered": True,
        "timestamps": False,
    }
    plain = pasted(thread.make(draft, {"numbered": False}))
    assert all(not NUMBER.match(post) and len(post) <= 280 for post in plain)
    assert plain[0] == "Why I plan first"
    timed = pasted(thread.make(draft, {"timestamps": True}))
    assert timed[0].endswith("Why I plan first (0:45)") and "At [2:05] I said it" in timed[1]
    assert all(len(post) <= 280 for post in timed)


def test_linkedin_and_youtube_descriptions_are_plain_text_ready_to_paste():
    linkedin = Draft(format="linkedin", title="T", body="# A title line\n\nThe hook.\n\n---\n\nThe point, made once.")
    [(name, text, _)] = export.draft_exports(linkedin)
    assert name == "linkedin.txt" and text == "A title line\n\nThe hook.\n\nThe point, made once.\n"
    job_id = processed(formats=["youtube_description"])
    description = api.bundle_files_for(job_id)["drafts/youtube_description.txt"]
    assert "\n0:00 Introduction\n" in description and not HEADING.search(description)
    chapters = re.findall(r"^(\d+):(\d{2}) \S", description, re.MULTILINE)
    assert len(chapters) >= 3 and chapters[0] == ("0", "00")


def test_newsletter_and_blog_export_as_markdown_and_html_with_markup_kept_as_text():
    body = (
        "# Issue 12\n\nHello <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n\n"
        "[Claim your refund](javascript:alert(3)) · [the talk](https://example.com/talk) · "
        "![pixel](https://tracker.example/p.png)\n"
    )
    for fmt in ("newsletter", "blog"):
        files = {name: text for name, text, _ in export.draft_exports(Draft(format=fmt, title="Issue 12", body=body))}
        assert set(files) == {f"{fmt}.md", f"{fmt}.html"}
        assert files[f"{fmt}.md"] == body
        page = files[f"{fmt}.html"]
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img" not in page and "javascript:" not in page.split("Claim your refund")[0][-40:]
        assert '<a href="https://example.com/talk">the talk</a>' in page
        assert not re.search(r"<a [^>]*href=\"javascript", page, re.IGNORECASE)


def test_the_bundle_zip_holds_every_export_with_the_transcript_and_reports():
    job_id = processed(formats=formats.names())
    archive = zipfile.ZipFile(io.BytesIO(views.bundle_zip(job_id)))
    names = set(archive.namelist())
    for spec in formats.specs():
        assert {f"drafts/{spec.name}{e.suffix}" for e in spec.exports} <= names, spec.name
    assert {"transcript.srt", "transcript.vtt", "transcript.txt", "insights.json", "qa_report.json"} <= names
    thread = archive.read("drafts/x_thread.txt").decode()
    assert all(len(post) <= 280 and NUMBER.match(post) for post in pasted(thread))


def test_the_downloads_tab_offers_each_export_and_the_thread_choices():
    job_id = processed(formats=formats.names())
    api.edit_draft(job_id, "x_thread", title="Thread", body="\n\n".join(MESSY_POSTS), posts=MESSY_POSTS)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.query_params["job"], at.query_params["tab"] = job_id, "Downloads"
    at.switch_page("pages/run.py")
    at.run()
    assert not at.exception
    labels = [b.proto.label for b in at.download_button]
    for spec in formats.specs():
        for exported in spec.exports:
            assert any(
                label.startswith(f"{spec.label}: {exported.label} ({spec.name}{exported.suffix}") for label in labels
            )
    assert "Download the whole bundle (.zip)" in labels

    def thread_file_url() -> str:
        """Where the page serves the X thread file: it changes with the file's content."""
        [button] = [b for b in at.download_button if b.proto.label.startswith("X thread:")]
        return button.proto.url

    numbered = at.checkbox(key="export_x_thread_numbered")
    timestamps = at.checkbox(key="export_x_thread_timestamps")
    assert (numbered.value, timestamps.value) == (True, False)  # the defaults: numbered, no timestamps
    usual = thread_file_url()
    numbered.uncheck().run()
    unnumbered = thread_file_url()
    at.checkbox(key="export_x_thread_timestamps").check().run()
    assert not at.exception
    assert len({usual, unnumbered, thread_file_url()}) == 3  # each choice makes another file
    at.checkbox(key="export_x_thread_numbered").check().run()
    at.checkbox(key="export_x_thread_timestamps").uncheck().run()
    assert thread_file_url() == usual
