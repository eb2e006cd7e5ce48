"""The draft editor (Run detail and Review): edit a draft beside a preview of it as its platform
shows it, with character counters against the platform's limits, copy buttons, saving as a new
version that QA scores again, and regenerating it with an instruction.

What holds:

- the editor keeps the version it was opened at; saving over a newer version someone else saved
  shows a conflict instead of overwriting it, and the text typed stays;
- limits come from the format's spec (``views.draft_preview``); a counter past one is red, and
  saving text past one asks first;
- the draft's text is untrusted (a model's or a transcript's words): the preview shows a thread's
  posts and plain text as text, and an article as Markdown rendered without raw HTML, scripts,
  images or ``javascript:`` links; copy buttons copy it as data;
- *Regenerate* writes this one draft again in a new run (``api.regenerate``), following the
  instruction given; the old version stays in the history, and the new one opens here once it is
  written;
- ``editable=False`` (someone who may only read) draws the same editor with every control that
  changes something disabled; copying still works.
"""

from __future__ import annotations

import html

import streamlit as st

from pipeline import api, diffs, views
from pipeline.errors import ClipInsightError, Conflict
from pipeline.models import DraftReview
from workbench.common import caller, editor, flash, when
from workbench.components import copy_button, css_key, live_counter
from workbench.text import literal

__all__ = ["draft_editor"]

#: The preview's type, close to the platforms' own (system fonts, their sizes).
_PLAIN_STYLE = (
    "white-space:pre-wrap;overflow-wrap:anywhere;font:14px/1.43 -apple-system,system-ui,'Segoe UI',Roboto,"
    "Helvetica,Arial,sans-serif;padding:12px 16px;border:1px solid rgba(49,51,63,0.2);border-radius:8px;"
)


def draft_editor(
    job_id: str,
    fmt: str,
    latest: dict,
    *,
    where: str,
    review: DraftReview | None = None,
    editable: bool = True,
    who_may: str | None = None,
    can_regenerate: bool = True,
    side_by_side: bool = True,
) -> None:
    """Edit a draft (``latest``: its newest version) beside its preview. ``review``: how QA
    scored it; ``editable``: whether this person may change it (``who_may`` says who may, for
    the others); ``can_regenerate``: the job rests (a running job cannot be re-run)."""
    if not editable and who_may:
        st.caption(f"You can read and copy this draft; only {who_may} may change it.")
    _regenerated(job_id, fmt, latest, resting=can_regenerate)
    base = _base(job_id, fmt, latest)
    _newer_version_notice(job_id, fmt, latest, base)
    key = f"{where}:{job_id}:{fmt}:v{base['version']}"
    left, right = st.columns(2, gap="medium") if side_by_side else (st.container(), st.container())
    with left:
        title, text, area = _fields(fmt, base, key, editable)
        preview = views.draft_preview(fmt, title, text)
        live_counter(
            area, text, threaded=preview["kind"] == "thread", per_post=preview["per_post"], total=preview["total"]
        )
        _qa_line(review)
        _actions(job_id, fmt, latest, base, key, (title, text, preview), editable, can_regenerate)
    with right if side_by_side else st.expander("Preview and copy", expanded=True):
        _preview(preview, key)
    _show_conflict(job_id, fmt, latest)


# --- Which version is open ----------------------------------------------------------------


def _base_key(job_id: str, fmt: str) -> str:
    return f"base:{job_id}:{fmt}"


def _regenerating_key(job_id: str, fmt: str) -> str:
    return f"regenerating:{job_id}:{fmt}"


def _base(job_id: str, fmt: str, latest: dict) -> dict:
    """The version this session opened (the latest, the first time)."""
    key = _base_key(job_id, fmt)
    if key not in st.session_state:
        st.session_state[key] = _snapshot(latest)
    return st.session_state[key]


def _regenerated(job_id: str, fmt: str, latest: dict, *, resting: bool) -> None:
    """What became of a regenerate this person asked for, once the job rests again (QA may have
    added a fixed version after the regenerated one): the newest version opens in the editor, or
    they are told that none came (the run failed or was cancelled)."""
    asked = st.session_state.get(_regenerating_key(job_id, fmt))
    if asked is None or not resting:
        return
    st.session_state.pop(_regenerating_key(job_id, fmt))
    label = views.format_label(fmt)
    if latest["version"] <= asked["version"]:
        st.warning(f"The {label} was not regenerated; the Timeline says why.")
        return
    st.session_state[_base_key(job_id, fmt)] = _snapshot(latest)
    instruction = f" ({literal(asked['instruction'])})" if asked["instruction"] else ""
    st.success(f"Version {latest['version']} is the regenerated {label}{instruction}.")


def _snapshot(version: dict) -> dict:
    return {"version": version["version"], "draft": version["draft"]}


def _newer_version_notice(job_id: str, fmt: str, latest: dict, base: dict) -> None:
    if st.session_state.get(_regenerating_key(job_id, fmt)) is not None:
        st.info(f"Regenerating the {views.format_label(fmt)}: the new version opens here once it is written.")
    elif latest["version"] > base["version"] and not st.session_state.get(f"conflict:{job_id}:{fmt}"):
        st.info(
            f"Version {latest['version']} was saved by {literal(latest['author'])} at {when(latest['created_at'])} "
            f"after you opened version {base['version']}."
        )
        _load_latest_button(job_id, fmt, latest)


# --- The editor ---------------------------------------------------------------------------


def _fields(fmt: str, base: dict, key: str, editable: bool) -> tuple[str, str, str]:
    """The title and text as typed so far, and the key of the text area's container."""
    label = views.format_label(fmt)
    hint = next(c["hint"] for c in views.format_choices() if c["name"] == fmt)
    # No form: each field sends its text when it loses focus, so with persist_state unsaved text
    # survives switching drafts, tabs and pages until it is saved.
    title = st.text_input(
        "Title", value=base["draft"].title, key=f"title:{key}", persist_state="session", disabled=not editable
    )
    area = css_key("text", key)
    with st.container(key=area):
        text = st.text_area(
            f"{label} text{hint}",
            value=views.editor_text(base["draft"]),
            height=320,
            key=f"text:{key}",
            persist_state="session",
            disabled=not editable,
        )
    return title, text, area


def _qa_line(review: DraftReview | None) -> None:
    if review is None:
        return
    verdict = "needs an editor" if review.requires_review else "passed"
    st.caption(f"QA score {review.score}, {verdict} (scored again at every save)")


def _actions(job_id, fmt, latest, base, key, typed, editable: bool, can_regenerate: bool) -> None:
    title, text, preview = typed
    label = views.format_label(fmt)
    row = st.container(horizontal=True, vertical_alignment="center")
    with row:
        if st.button(f"Save {label} as a new version", key=f"save:{key}", type="primary", disabled=not editable):
            if preview["over"]:
                st.session_state["confirm_over"] = key
            else:
                _save(job_id, fmt, base, title, text)
        _regenerate_menu(job_id, fmt, latest, key, enabled=editable and can_regenerate)
    if st.session_state.get("confirm_over") == key:
        _confirm_over_limit(job_id, fmt, base, key, title, text, preview)


@st.dialog("Save past the platform's limit?", on_dismiss=lambda: st.session_state.pop("confirm_over", None))
def _confirm_over_limit(job_id: str, fmt: str, base: dict, key: str, title: str, text: str, preview: dict) -> None:
    over = "; ".join(
        f"{c['part'].lower()} has {c['chars']:,} characters, {c['limit']:,} allowed" for c in preview["over"]
    )
    st.write(f"{preview['label']}: {over}. The platform refuses text past its limit, and QA will flag it.")
    left, right = st.columns(2)
    if left.button("Save anyway", key=f"save_over:{key}", type="primary"):
        st.session_state.pop("confirm_over", None)
        _save(job_id, fmt, base, title, text)
    if right.button("Keep editing", key=f"keep_editing:{key}"):
        st.session_state.pop("confirm_over", None)
        st.rerun()


def _save(job_id: str, fmt: str, base: dict, title: str, text: str) -> None:
    fields = views.draft_fields(fmt, title, text)
    try:
        version = api.edit_draft(job_id, fmt, **fields, caller=caller(), expected_version=base["version"])
    except Conflict as exc:
        st.session_state[f"conflict:{job_id}:{fmt}"] = {"message": str(exc), "title": title, "text": text}
        return
    except ClipInsightError as exc:
        st.error(literal(str(exc)))
        return
    st.session_state[_base_key(job_id, fmt)] = {"version": version, "draft": views.editor_draft(fmt, title, text)}
    st.session_state.pop(f"conflict:{job_id}:{fmt}", None)
    flash(f"Saved the {views.format_label(fmt)} as version {version} (by {literal(editor())}).{_score(job_id, fmt)}")
    st.rerun()


def _score(job_id: str, fmt: str) -> str:
    review = views.draft_review(job_id, fmt, caller=caller())
    if review is None:
        return ""
    return f" QA scored it {review.score}: {'it needs an editor' if review.requires_review else 'passed'}."


# --- Regenerate ---------------------------------------------------------------------------


def _regenerate_menu(job_id: str, fmt: str, latest: dict, key: str, *, enabled: bool) -> None:
    label = views.format_label(fmt)
    why = None if enabled else "Only a job that is not running can be regenerated, by someone who may edit it."
    menu = st.popover("Regenerate…", icon=":material/autorenew:", disabled=not enabled, help=why, key=f"regen:{key}")
    with menu:
        asked = st.pills("Ask for", views.SUGGESTED_INSTRUCTIONS, selection_mode="multi", key=f"asks:{key}")
        typed = st.text_input(
            "Instruction in your words (optional)",
            max_chars=views.MAX_INSTRUCTION_CHARS,
            key=f"instruction:{key}",
            placeholder="e.g. shorter, lead with the story",
        )
        st.caption(
            f"Writes this draft again in one step, then QA scores it; version {latest['version']} stays in "
            "the history. Offline, the writer follows: " + ", ".join(views.SUGGESTED_INSTRUCTIONS) + "."
        )
        if st.button(f"Regenerate the {label}", key=f"regenerate:{key}", type="primary"):
            _regenerate(job_id, fmt, latest, ", ".join([*(asked or []), typed.strip()]).strip(", "))


def _regenerate(job_id: str, fmt: str, latest: dict, instruction: str) -> None:
    label = views.format_label(fmt)
    try:
        api.regenerate(job_id, fmt, instruction or None, caller=caller())
    except ClipInsightError as exc:
        st.error(literal(str(exc)))
        return
    st.session_state[_regenerating_key(job_id, fmt)] = {"version": latest["version"], "instruction": instruction}
    asked = f" ({literal(instruction)})" if instruction else ""
    flash(f"Regenerating the {label}{asked}; version {latest['version']} stays in the history.")
    st.rerun()


# --- The preview --------------------------------------------------------------------------


def _preview(preview: dict, key: str) -> None:
    st.markdown(f"**Preview: {preview['label']}** · {preview['limits']}")
    if preview["kind"] == "thread":
        counts = preview["counts"]
        for number, (post, count) in enumerate(zip(preview["posts"], counts, strict=False), 1):
            _post_card(number, post, count, key)
    elif preview["kind"] == "article":
        with st.container(border=True):
            st.html(f'<div class="draft-preview">{preview["html"]}</div>')  # rendered without raw HTML or images
    else:
        width = f"max-width:{preview['column_px']}px;" if preview["column_px"] else ""
        st.html(f'<div class="draft-preview" style="{width}{_PLAIN_STYLE}">{html.escape(preview["plain"])}</div>')
    st.markdown(_total_text(preview))
    if preview["as_posted"]:
        whole = "Copy all posts" if preview["kind"] == "thread" else "Copy the whole draft"
        copy_button(preview["as_posted"], whole, key=css_key("copy-all", key))


def _post_card(number: int, post: str, count: dict, key: str) -> None:
    with st.container(border=True):
        st.text(post)  # as written: a post is never read as Markdown
        row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        with row:
            st.markdown(_count_text(count))
            copy_button(post, f"Copy post {number}", key=css_key("copy", key, str(number)))


def _count_text(count: dict) -> str:
    """A counter as Markdown (numbers only): red and bold past the limit."""
    if count["limit"] is None:
        return f"{count['chars']:,} characters"
    shown = f"{count['chars']:,} / {count['limit']:,}"
    return f":red[**{shown}** · {count['chars'] - count['limit']:,} over]" if count["over"] else shown


def _total_text(preview: dict) -> str:
    total = preview["counts"][-1]
    size = _count_text(total) + ("" if total["limit"] is None else " characters")
    return f"Total: {len(preview['posts'])} posts, {size}" if preview["kind"] == "thread" else f"Total: {size}"


# --- Conflicts ----------------------------------------------------------------------------


def _show_conflict(job_id: str, fmt: str, latest: dict) -> None:
    conflict = st.session_state.get(f"conflict:{job_id}:{fmt}")
    if not conflict:
        return
    st.error(f"Not saved: {literal(conflict['message'])}")
    mine = views.editor_draft(fmt, conflict["title"], conflict["text"])
    st.caption(
        f"How your text differs from version {latest['version']} (saved by {literal(latest['author'])}); copy what "
        "you need, load their version, and apply your changes to it:"
    )
    diff = diffs.draft_diff(latest["draft"], mine, old_label=f"version {latest['version']}", new_label="yours")
    st.code(diff or "(no difference)", language="diff")
    _load_latest_button(job_id, fmt, latest)


def _load_latest_button(job_id: str, fmt: str, latest: dict) -> None:
    if st.button(f"Load version {latest['version']} into the editor", key=f"reload:{job_id}:{fmt}"):
        st.session_state[_base_key(job_id, fmt)] = _snapshot(latest)
        st.session_state.pop(f"conflict:{job_id}:{fmt}", None)
        st.rerun()
