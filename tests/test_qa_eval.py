"""QA measured against the labelled set in data/evaluation/qa_eval.json: good drafts (offline and
hand-written) and drafts with one defect of every kind seeded in, each with the check that must
flag it. Offline, no judge, as QA checks an editor's text."""

from __future__ import annotations

import json

from pipeline.quality import EVAL_SET, evaluate_qa

#: Every kind of defect the issue lists, and those the format specs add.
KINDS = {
    "post_over_limit", "total_over_limit", "empty_post", "label_only_post", "empty_section", "label_only_bullet",
    "keyword_soup", "boilerplate_title", "soup_title", "repeated_sentence", "bad_hashtags",
    "claims_someone_elses_talk", "speaker_never_named", "too_short_for_source", "padded", "top_quotes_missing",
    "misquote", "number_nobody_said", "unsourced_statistic", "banned_phrase", "avoided_phrase", "profanity",
    "ignore_previous", "role_play", "fake_system_line", "link_nobody_supplied", "link_from_the_transcript", "markup",
    "cta_missing", "markdown_in_plain_text", "chapters_not_from_zero", "angle_brackets", "thread_not_paste_ready",
}  # fmt: skip


def test_the_set_holds_good_drafts_of_every_format_and_every_kind_of_defect():
    items = json.loads(EVAL_SET.read_text(encoding="utf-8"))["items"]
    good = [i for i in items if not i["expected"]]
    assert len(good) >= 35 and {i["draft"]["format"] for i in good} >= {"newsletter", "blog", "x_thread", "linkedin"}
    assert {i["source"] for i in good} == {"offline", "handwritten"}
    seeded = [i["defect"] for i in items if i["expected"]]
    assert set(seeded) == KINDS and all(seeded.count(kind) >= 3 for kind in KINDS)


def test_qa_catches_seeded_defects_and_leaves_good_drafts_alone():
    result = evaluate_qa()
    print(
        f"\nrecall {result.recall:.3f} ({sum(result.caught.values())}/{sum(result.seeded.values())}), "
        f"false flags {result.false_flag_rate:.3f} ({len(result.false_flags)}/{result.good})"
    )
    assert result.recall >= 0.95, result.misses
    assert result.false_flag_rate <= 0.05, result.false_flags
