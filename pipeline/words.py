"""Words as the extractive provider counts them: stop words, content words, stems, key-phrase
runs, and title casing."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "STOPWORDS",
    "TOKEN",
    "word_set",
    "stem",
    "is_content",
    "content_runs",
    "uncapitalize_start",
    "title_case",
    "join_list",
]


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS = word_set(
    """
    a about above after again against ago all almost also although always am among an and another any anybody
    anyone anything anyway anywhere are around as at away back be became because become been before being
    below better between both but by came can cannot could did do does doing done down during each either
    else enough even ever every everybody everyone everything exactly few find first for from get gets
    getting give given gives go goes going gone gonna good got great had has have having he her here hers
    herself him himself his how however i if in into is it its itself just keep kind know last less let
    like little look lot lots made make makes making many may maybe me mean might mine more most much must
    my myself need needs never new next no nobody none nor not nothing now of off often oh ok okay on once
    one only onto or other others our ours ourselves out over own part people per perhaps please pretty
    probably put quite rather re really right said same say saying says see seem seems several she should
    since so some somebody someone something sometimes somewhere sort start still such sure take takes
    talk tell than thank thanks that the their theirs them themselves then there these they thing things
    think this those though through thus time times to today together too took toward try two um uh under
    until up upon us use used using very via want wanted wants was way we well went were what whatever
    when where whether which while who whole whom whose why will with within without would yeah yes yet
    you your yours yourself yourselves actually basically honestly literally totally definitely simply
    anyway stuff guy guys bit able ask asked call called come comes coming feel felt hear heard help
    keep kept leave left mind move own place point real show shows side sound sounds stay stop sure talk
    talking tell thought three told turn turns word words work works year years day days week weeks
    usually different add added bigger big small smaller hard easy high low long short quick slow important
    minute minutes hour hours second seconds month months happen happened happens end ended ends started
    remember lead full missed whatever ever later least almost instead already enough else nice fine
    """
)

TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*(?:-[A-Za-z0-9]+)*")
CLAUSE_BREAK = re.compile(r"[,;:.!?()\[\]\"\u201c\u201d\u2026]+|\s[-\u2013\u2014]+\s|[\u2013\u2014]")
SMALL_TITLE_WORDS = word_set("a an and as at but by for from in into of on or per the to vs with")


def stem(word: str) -> str:
    """Fold plurals and possessives so that 'creator', 'creators' and "creator's" count as one."""
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_content(token: str) -> bool:
    lowered = token.lower().replace("\u2019", "'")
    if len(lowered) < 3 or not lowered[0].isalpha() or any(ch.isdigit() for ch in lowered):
        return False
    if "'" in lowered and not lowered.endswith("'s"):  # contractions: don't, I'm, you'll
        return False
    return lowered not in STOPWORDS and stem(lowered) not in STOPWORDS


def content_runs(text: str) -> list[list[str]]:
    """Runs of content words between stop words and punctuation: the raw material of key
    phrases ('batch recording', 'subject line')."""
    runs: list[list[str]] = []
    for clause in CLAUSE_BREAK.split(uncapitalize_start(text)):
        run: list[str] = []
        for token in TOKEN.findall(clause):
            if is_content(token):
                run.append(token)
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
    return runs


def uncapitalize_start(text: str) -> str:
    """A capital that only marks the start of a sentence is not part of the word."""
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return text[0].lower() + text[1:]
    return text


def title_case(phrase: str) -> str:
    words = phrase.split()
    cased = [
        w if not w.islower() or (i and w in SMALL_TITLE_WORDS) else w[0].upper() + w[1:] for i, w in enumerate(words)
    ]
    return " ".join(cased)


def join_list(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
