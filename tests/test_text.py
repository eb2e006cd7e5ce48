"""Untrusted text stays text (``workbench.text``): what a transcript, a title or a model answer
says is shown as written, never as links, emphasis, headings or HTML. Rendered here by a
CommonMark parser; the browser test checks the same texts in Chromium, bare links included."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from workbench.text import highlighted, literal, literal_frame

HOSTILE = [
    "[Claim your refund](https://evil.example/phish)",
    "object.__setattr__ and **bold** and *it* and `code`",
    "# Heading\n- a list item\n1. numbered\n> quoted",
    "<script>alert(1)</script> <b>bold</b> &amp;",
    "![pixel](https://evil.example/p.png) | a | table |",
    ":red[coloured] :material/home: $x^2$ \\escaped",
    "    indented like code",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_written(text):
    rendered = MarkdownIt("commonmark").render(literal(text))
    tags = set(re.findall(r"<(\w+)", rendered))
    assert tags <= {"p", "br"}, rendered
    shown = re.sub(r"<[^>]+>", "", rendered).replace("\u2060", "")
    shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert [line.strip() for line in shown.strip().splitlines()] == [line.strip() for line in text.splitlines()]


def test_bare_links_are_broken_by_an_invisible_joiner():
    shown = literal("see https://evil.example/x, www.evil.example or me@evil.example")
    assert "https\\:\u2060\\/\\/" in shown and "www\u2060\\." in shown and "me\u2060\\@" in shown


def test_table_cells_from_outside_are_escaped_and_ours_are_not():
    import pandas as pd

    frame = literal_frame(pd.DataFrame({"title": ["**Big** [x](y)"], "job_id": ["job_ab"]}), "title")
    assert frame.loc[0, "title"] == "\\*\\*Big\\*\\* \\[x\\]\\(y\\)" and frame.loc[0, "job_id"] == "job_ab"


def test_highlighted_passages_are_escaped_html_with_marks():
    text = "Say <b>93%</b> & more 93%"
    marked = highlighted(text, [(7, 10), (22, 25), (8, 9)])  # overlapping spans merge
    assert marked == "Say &lt;b&gt;<mark>93%</mark>&lt;/b&gt; &amp; more <mark>93%</mark>"
