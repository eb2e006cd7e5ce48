"""Structured answers: validate, ask again once with the errors, then fail with the last answer."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from pipeline.errors import ErrorCode, StepError
from pipeline.structured import Answer, ask_structured


class Pick(BaseModel):
    name: str
    score: int = Field(ge=0, le=10)


def scripted(*texts: str, truncated: bool = False):
    asked = []

    def ask(reask):
        asked.append(reask)
        return Answer(text=texts[len(asked) - 1], tokens_in=10, tokens_out=5, truncated=truncated)

    return ask, asked


def test_a_valid_answer_is_used_as_is():
    ask, asked = scripted('{"name": "hook", "score": 7}')
    result = ask_structured(ask, Pick)
    assert result.value == Pick(name="hook", score=7) and asked == [None] and not result.reasked


def test_an_invalid_answer_is_asked_again_with_what_was_wrong():
    ask, asked = scripted('{"name": "hook", "score": 12}', '```json\n{"name": "hook", "score": 9}\n```')
    result = ask_structured(ask, Pick)

    assert result.value.score == 9 and result.reasked
    assert asked[1].answer.text == '{"name": "hook", "score": 12}'
    assert "score: Input should be less than or equal to 10" in asked[1].feedback
    assert (result.tokens_in, result.tokens_out) == (20, 10) and len(result.problems) == 1


def test_two_invalid_answers_fail_with_the_last_answer_in_the_message():
    ask, asked = scripted("not json", "still not json, sorry")
    with pytest.raises(StepError) as caught:
        ask_structured(ask, Pick)
    assert caught.value.code is ErrorCode.GENERATION_FAILED
    assert "still not json, sorry" in caught.value.message and len(asked) == 2


def test_a_cut_off_answer_is_asked_to_be_shorter():
    ask, asked = scripted('{"name": "ho', '{"name": "hook", "score": 1}', truncated=True)
    ask_structured(ask, Pick)
    assert "cut off at the output limit" in asked[1].feedback
