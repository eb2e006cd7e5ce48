"""The draft editor through Streamlit's AppTest, on a real DuckDB file with jobs run by the real
runner in this process: the platform preview, character counters against the limits the format
specs give (red past them), the confirmation before saving past a limit, QA's new score after a
save, copy buttons, regenerating a draft with an instruction, and a read-only editor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline import api, formats, views
from pipeline.options import JobOptions
from pipeline.runner import run_queued
from pipeline.store import artifacts as artifact_rows
from pipeline.store import get_store
from tests.conftest import SAMPLES

APP = "../app.py"
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def processed(**options) -> str:
    path = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id
    run_queued()
    return job_id


def drafts_page(job_id: str, fmt: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["job"], at.query_params["tab"] = job_id, "Drafts"
    at.switch_page("pages/run.py")
    at.run()
    at.session_state["draft_format"] = formats.label(fmt)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def read(markdown: str) -> str:
    """Markdown source as a person reads it (backslash escapes resolved)."""
    return _ESCAPE.sub(r"\1", str(markdown))


def markdown(at: AppTest) -> list[str]:
    return [read(m.value) for m in at.markdown]


def counters(at: AppTest) -> list[str]:
    """The preview's counters: "94 / 280", or red and bold past the limit."""
    return [text for text in markdown(at) if re.fullmatch(r"(:red\[\*\*)?[\d,]+ / [\d,]+.*", text)]


def text_area(at: AppTest, fmt: str):
    [area] = [a for a in at.text_area if a.key.startswith("text:run:") and f":{fmt}:" in a.key]
    return area


def button(at: AppTest, label: str):
    [found] = [b for b in at.button if b.label == label]
    return found


def components(at: AppTest, name: str) -> list[dict]:
    """The data given to the browser-side components (copy buttons, live counter)."""
    found = []
    for element in at.get("bidi_component"):
        if element.proto.component_name == name:
            found.append(json.loads(element.proto.json))
    return found


def versions(job_id: str, fmt: str) -> list[dict]:
    return get_store().run(artifact_rows.draft_history, job_id, fmt)


@pytest.fixture
def thread_job() -> str:
    return processed(formats=["x_thread", "linkedin", "newsletter"])


# --- Preview and counters ------------------------------------------------------------------


def test_a_thread_shows_each_post_with_its_counter_against_the_specs_limit(thread_job):
    at = drafts_page(thread_job, "x_thread")
    posts = versions(thread_job, "x_thread")[-1]["posts"]
    limit = formats.get("x_thread").limits.per_post
    assert [t.value for t in at.text] == posts  # each post shown as written, on its own
    assert counters(at) == [f"{len(post)} / {limit}" for post in posts]
    assert f"Total: {len(posts)} posts, {sum(len(p) for p in posts):,} characters" in markdown(at)
    assert "**Preview: X thread** · each post at most 280 characters, numbering included" in markdown(at)
    [live] = components(at, "clipinsight.counter")
    assert (live["threaded"], live["per_post"], live["total"]) == (True, limit, None)


def test_a_post_past_the_limit_turns_its_counter_red(thread_job):
    at = drafts_page(thread_job, "x_thread")
    posts = versions(thread_job, "x_thread")[-1]["posts"]
    long = posts[1] + " And one more thought that keeps going." * 6
    text_area(at, "x_thread").input("\n---\n".join([posts[0], long, *posts[2:]])).run()
    shown = counters(at)
    assert shown[0] == f"{len(posts[0])} / 280"
    assert shown[1] == f":red[**{len(long)} / 280** · {len(long) - 280} over]"
    assert all(not c.startswith(":red") for c in shown[2:])


def test_linkedin_counts_its_total_against_3000_and_previews_in_a_narrow_column(thread_job):
    at = drafts_page(thread_job, "linkedin")
    body = versions(thread_job, "linkedin")[-1]["body"]
    assert f"Total: {len(body):,} / 3,000 characters" in markdown(at)
    [preview] = [h.proto.body for h in at.get("html") if "draft-preview" in h.proto.body]
    assert "max-width:552px" in preview and "white-space:pre-wrap" in preview
    text_area(at, "linkedin").input("x" * 3001).run()
    assert "Total: :red[**3,001 / 3,000** · 1 over] characters" in markdown(at)


def test_the_preview_renders_markdown_but_never_markup_scripts_or_javascript_links(thread_job):
    at = drafts_page(thread_job, "newsletter")
    hostile = (
        "# Issue\n\nHello **reader** <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[Claim your refund](javascript:alert(3)) and [the talk](https://example.com/talk)\n\n"
        "![pixel](https://tracker.example/p.png)\n"
    )
    text_area(at, "newsletter").input(hostile).run()
    [preview] = [h.proto.body for h in at.get("html") if "draft-preview" in h.proto.body]
    assert "<strong>reader</strong>" in preview  # Markdown is rendered...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview and "<script" not in preview  # ...markup is not
    assert "<img" not in preview and "onerror=alert" not in preview.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert 'href="javascript' not in preview and '<a href="https://example.com/talk">' in preview
    at = drafts_page(thread_job, "linkedin")
    text_area(at, "linkedin").input("Hi <b>there</b> & [x](javascript:alert(1))").run()
    [plain] = [h.proto.body for h in at.get("html") if "draft-preview" in h.proto.body]
    assert "Hi &lt;b&gt;there&lt;/b&gt; &amp; [x](javascript:alert(1))" in plain


def test_copy_buttons_carry_each_post_and_the_whole_draft_as_pasted(thread_job):
    at = drafts_page(thread_job, "x_thread")
    posts = versions(thread_job, "x_thread")[-1]["posts"]
    copies = {c["label"]: c["text"] for c in components(at, "clipinsight.copy")}
    for number, post in enumerate(posts, 1):
        assert copies[f"Copy post {number}"] == post
    assert copies["Copy all posts"] == api.bundle_files_for(thread_job)["drafts/x_thread.txt"]


# --- Saving ----------------------------------------------------------------------------------


def test_saving_past_a_limit_asks_first_and_qa_scores_every_save(thread_job):
    at = drafts_page(thread_job, "x_thread")
    posts = versions(thread_job, "x_thread")[-1]["posts"]
    long = posts[0] + " " + " ".join(["Plan the clips before you press record."] * 7)
    text_area(at, "x_thread").input("\n---\n".join([long, *posts[1:]])).run()
    button(at, "Save X thread as a new version").click().run()
    assert len(versions(thread_job, "x_thread")) == 1  # nothing saved yet: a question first
    assert any("post 1 has" in text and "280 allowed" in text for text in markdown(at))
    button(at, "Keep editing").click().run()
    assert len(versions(thread_job, "x_thread")) == 1 and not [b for b in at.button if b.label == "Save anyway"]
    assert text_area(at, "x_thread").value.startswith(long)  # the text stays

    button(at, "Save X thread as a new version").click().run()
    button(at, "Save anyway").click().run()
    saved = versions(thread_job, "x_thread")
    assert [v["source"] for v in saved] == ["generated", "edit"] and saved[-1]["posts"][0] == long
    review = views.draft_review(thread_job, "x_thread")
    assert review.requires_review and review.score < 100
    assert f"Saved the X thread as version 2 (by editor). QA scored it {review.score}: it needs an editor." in [
        s.value for s in at.success
    ]
    assert f"QA score {review.score}, needs an editor (scored again at every save)" in [c.value for c in at.caption]


def test_a_save_within_the_limits_does_not_ask(thread_job):
    at = drafts_page(thread_job, "linkedin")
    text_area(at, "linkedin").input("One talk became eleven posts a week. Here is the routine, step by step.").run()
    button(at, "Save LinkedIn post as a new version").click().run()
    assert [v["source"] for v in versions(thread_job, "linkedin")] == ["generated", "edit"]
    score = views.draft_review(thread_job, "linkedin").score
    assert any(
        s.value.startswith("Saved the LinkedIn post as version 2") and f"QA scored it {score}" in s.value
        for s in at.success
    )


# --- Regenerate -------------------------------------------------------------------------------


def test_regenerate_with_an_instruction_makes_a_new_version_and_keeps_the_old(thread_job):
    at = drafts_page(thread_job, "x_thread")
    before = versions(thread_job, "x_thread")[-1]["posts"]
    [asks] = [p for p in at.get("button_group") if p.proto.label == "Ask for"]
    assert [o.content for o in asks.proto.options] == ["shorter", "more technical", "lead with the story"]
    [typed] = [t for t in at.text_input if t.label == "Instruction in your words (optional)"]
    typed.input("shorter").run()
    button(at, "Regenerate the X thread").click().run()
    assert api.status_report(thread_job)["status"] == "INSIGHTS"
    assert "Regenerating the X thread (shorter); version 1 stays in the history." in [s.value for s in at.success]
    assert any("the new version opens here once it is written" in i.value for i in at.info)

    run_queued()
    at.run()
    assert not at.exception
    assert "Version 2 is the regenerated X thread (shorter)." in [read(s.value) for s in at.success]
    assert any(read(c.value).startswith("Version 2 · regenerated: shorter by clipinsight") for c in at.caption)
    after = versions(thread_job, "x_thread")
    assert [(v["source"], v["note"]) for v in after] == [("generated", None), ("regenerated", "regenerated: shorter")]
    assert after[0]["posts"] == before and len(after[1]["posts"]) < len(before)
    assert text_area(at, "x_thread").value == "\n---\n".join(after[1]["posts"])  # the new version is open
    [table] = [t.value for t in at.table if "source" in t.value.columns]
    assert list(table["source"]) == ["generated", "regenerated"]


def test_a_regenerate_that_ends_without_a_new_version_says_so(thread_job):
    at = drafts_page(thread_job, "linkedin")
    button(at, "Regenerate the LinkedIn post").click().run()
    api.cancel(thread_job)
    at.query_params["tab"] = "Drafts"  # a failed job opens on its timeline; the person goes back to the drafts
    at.run()
    assert "The LinkedIn post was not regenerated; the Timeline says why." in [w.value for w in at.warning]
    assert not any("opens here once it is written" in i.value for i in at.info)
    at.run()
    assert not at.warning  # said once


def test_regenerate_waits_while_the_job_runs(thread_job):
    api.regenerate(thread_job, "linkedin")  # queued, not run: the job is active
    at = drafts_page(thread_job, "x_thread")
    [menu] = [p.proto.popover for p in at.get("popover") if "Regenerate" in p.proto.popover.label]
    assert menu.disabled and "not running" in menu.help


# --- Someone who may only read -------------------------------------------------------------------


def read_only_editor(job_id: str) -> None:
    from pipeline import views
    from workbench.draft_editor import draft_editor

    latest = views.run_tab(job_id, "Drafts")["drafts"]["x_thread"][-1]
    draft_editor(job_id, "x_thread", latest, where="viewer", editable=False)


def test_a_read_only_editor_disables_everything_that_changes_a_draft_but_copies(thread_job):
    at = AppTest.from_function(read_only_editor, args=(thread_job,), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert all(t.disabled for t in at.text_input if t.key.startswith("title:")) and all(
        a.disabled for a in at.text_area
    )
    assert button(at, "Save X thread as a new version").disabled
    assert all(p.proto.popover.disabled for p in at.get("popover"))
    assert len(components(at, "clipinsight.copy")) == len(versions(thread_job, "x_thread")[-1]["posts"]) + 1


def test_the_editor_speaks_no_format_names_of_its_own():
    """The editor reads every limit and label from the format specs (tests cover each format)."""
    source = (Path(__file__).resolve().parents[1] / "workbench" / "draft_editor.py").read_text()
    for name in formats.names():
        assert f'"{name}"' not in source and "280" not in source and "3,000" not in source
