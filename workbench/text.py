"""Untrusted text stays text. Transcripts, titles, drafts, quotes, QA reasons and source
metadata come from outside (a speaker, a video site, a model) and are never interpreted as
Markdown or HTML.

Streamlit reads Markdown in many places (st.markdown, st.write, st.caption, st.info/warning/
error, titles and subheaders, st.table cells, widget and page-link labels, progress text). Text
from outside goes through :func:`literal` before it reaches any of them: every ASCII punctuation
character is backslash-escaped (CommonMark lets any of them be escaped, so no link, emphasis,
heading, list, HTML tag, colour directive or formula can start), and line breaks stay line
breaks. Escapes do not stop the renderer's bare-link detection (``https://…``, ``www.…``,
``name@host``, measured in Chromium), so an invisible word joiner (U+2060) goes where those
begin: the text reads the same and nothing in it is a link. Passages with highlighted words are
built as escaped HTML (:func:`highlighted`), which links nothing.
"""

from __future__ import annotations

import html
import re

__all__ = ["literal", "literal_frame", "highlighted"]

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_BARE_LINK_START = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def literal(text: object) -> str:
    """``text`` as Markdown that renders exactly as written, with no link in it."""
    lines = str(text if text is not None else "").splitlines() or [""]
    return "  \n".join(_PUNCTUATION.sub(r"\\\1", _BARE_LINK_START.sub(_WORD_JOINER, line.strip())) for line in lines)


def literal_frame(frame, *columns: str):
    """A copy of a DataFrame whose text in these columns renders as written (``st.table``
    reads Markdown in its cells)."""
    shown = frame.copy()
    for column in columns:
        shown[column] = [literal(value) if isinstance(value, str) else value for value in shown[column]]
    return shown


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` as escaped HTML with the character ``spans`` marked (overlaps merged)."""
    pieces, at = [], 0
    for start, end in _merged(spans, len(text)):
        pieces += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    pieces.append(html.escape(text[at:]))
    return "".join(pieces)


def _merged(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
