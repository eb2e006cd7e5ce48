"""Voice: the workspace's brand voice — a description, example posts, words to use and to avoid,
the default call to action, the hashtag policy and the sign-off. Every save is a new version;
runs keep the version they started with."""

from __future__ import annotations

import streamlit as st

from pipeline import api
from pipeline.errors import ClipInsightError
from pipeline.models import HASHTAG_POLICIES, VoiceProfile
from workbench import shell
from workbench.common import caller, editor, flash, show_flash, workspace

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

POLICY_LABELS = {"none": "No hashtags", "from_talk": "From the talk's own words", "fixed": "Always these"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def form(current: VoiceProfile) -> dict:
    description = st.text_area("How the creator sounds", value=current.description, key="voice_description")
    examples = st.text_area(
        "Example posts (up to five, separated by a line of ---)",
        value="\n---\n".join(current.examples),
        height=180,
        key="voice_examples",
    )
    use, avoid = st.columns(2)
    use_phrases = use.text_area(
        "Words and phrases to use (one a line)", "\n".join(current.use_phrases), key="voice_use"
    )
    avoid_phrases = avoid.text_area("Never use (one a line)", "\n".join(current.avoid_phrases), key="voice_avoid")
    cta = st.text_input("Default call to action", value=current.default_cta or "", key="voice_cta")
    policy_column, tags_column, most_column = st.columns([2, 3, 1])
    policy = policy_column.selectbox(
        "Hashtags",
        HASHTAG_POLICIES,
        index=HASHTAG_POLICIES.index(current.hashtag_policy),
        format_func=POLICY_LABELS.get,
        key="voice_policy",
    )
    tags = tags_column.text_input("The hashtags (for 'Always these')", " ".join(current.hashtags), key="voice_tags")
    most = most_column.number_input("At most", 0, 10, current.max_hashtags, key="voice_max")
    sign_off = st.text_input("Sign-off", value=current.sign_off or "", key="voice_sign_off")
    return {
        "description": description,
        "examples": [e.strip() for e in examples.split("\n---\n") if e.strip()],
        "use_phrases": _lines(use_phrases),
        "avoid_phrases": _lines(avoid_phrases),
        "default_cta": cta.strip() or None,
        "hashtag_policy": policy,
        "hashtags": tags.split(),
        "max_hashtags": int(most),
        "sign_off": sign_off.strip() or None,
    }


st.title("Voice")
show_flash()
current = api.voice_profile(workspace(), caller=caller())
st.caption(
    f"Workspace {workspace()} · "
    + (f"version {current.version}" if current.version else "no voice profile yet: drafts are written plainly")
)
fields = form(current)
if st.button("Save as a new version", type="primary", key="voice_save"):
    try:
        version = api.save_voice_profile(workspace(), VoiceProfile.model_validate(fields), caller=caller())
    except (ClipInsightError, ValueError) as exc:
        st.error(str(exc))
    else:
        flash(f"Saved the voice profile as version {version} (by {editor()}).")
        st.rerun()
history = api.voice_history(workspace(), caller=caller())
if history:
    st.markdown("##### Versions")
    st.table(
        [
            {"version": h["version"], "saved by": h["saved_by"], "saved at": f"{h['saved_at']:%Y-%m-%d %H:%M}"}
            for h in history
        ]
    )
