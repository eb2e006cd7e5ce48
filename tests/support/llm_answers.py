"""Answers a capable model would give, built from the request itself: the "smart" behaviour of
the local stand-ins for Gemini and for OpenAI-compatible servers (they differ in protocol, not in
what they answer).

Quotes and summaries are real sentences of the fenced transcript; drafts are composed from the
fenced insight pack within the platform limits; the judge is content. A :class:`Question` is
what a stand-in read from a request: the task (from the answer schema's name), the system text
and the user turns. ``echo_injection`` makes the answers those of a compromised model: every
drafted text also carries the transcript's lines that hold an instruction, markup or a link.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Question", "TASKS", "SCRIPT", "smart_answer", "task_of_schema", "CHARS_PER_TOKEN"]

#: Response schema title -> task name.
TASKS = {
    "InsightsAnswer": "insights",
    "NewsletterAnswer": "newsletter",
    "BlogAnswer": "blog",
    "ThreadAnswer": "x_thread",
    "LinkedInAnswer": "linkedin",
    "YouTubeDescriptionAnswer": "youtube_description",
    "JudgeAnswer": "judge",
    "TranscriptAnswer": "transcribe",
}
CHARS_PER_TOKEN = 4

#: What "smart" speech recognition hears in any audio: (start, end, text).
SCRIPT = [
    (0.0, 4.2, "Welcome back to the channel, today we are talking about batch recording."),
    (4.2, 9.8, "I record four videos every Monday morning, and that one habit changed my whole week."),
    (9.8, 15.1, "The trick is to plan the topics on Sunday evening so the camera day has no decisions left."),
    (15.1, 21.0, "Every video gets a short outline with three points and one story that proves them."),
    (21.0, 26.4, "After recording I cut the best moments into clips for shorts and for the newsletter."),
    (26.4, 31.9, "A good clip is specific, surprising, and short enough to understand without context."),
    (31.9, 37.5, "I publish one long video a week and turn it into five or six smaller posts."),
    (37.5, 43.0, "That is how I went from posting twice a week to posting every single day."),
    (43.0, 48.2, "If you try this, start small with two videos in one session and see how it feels."),
    (48.2, 52.0, "Thanks for watching, and I will see you in the next one."),
]


def task_of_schema(title: str | None) -> str | None:
    return TASKS.get(title or "")


@dataclass
class Question:
    task: str | None
    system: str
    user: str  # the text of the user turns, in order
    echo_injection: bool = False

    def fenced(self, label: str) -> str | None:
        """The data between ``<<<BEGIN label id>>>`` and ``<<<END label id>>>``, if any."""
        match = re.search(rf"<<<BEGIN {label} (\w+)>>>\n(.*?)\n<<<END {label} \1>>>", self.user, re.DOTALL)
        return match.group(2) if match else None


_LINE = re.compile(r"^\[(?:(\d+):)?(\d+):(\d{2})\]\s+(?:([A-Z][A-Z0-9 .'-]{1,30}):\s+)?(.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
#: Lines the smart server never picks: what a careful model would not quote or summarise.
_AVOID = re.compile(
    r"\b(ignore|instructions?|damn|shit|fuck\w*|crap|guarantee\w*|want to talk|thanks|welcome|system|assistant)\b"
    r"|%|https?://|www\.|<",
    re.IGNORECASE,
)
_STOP_WORDS = """
about after again also always because been before being could doing every first going great have just like little
maybe more most much never other people really right should something still their there these thing things think
those through today very want what when where which while would years your yourself
"""
_STOP = frozenset(_STOP_WORDS.split())


@dataclass
class _Line:
    start: float
    sentences: list[str]


def _transcript_lines(request: Question) -> list[_Line]:
    lines = []
    for raw in (request.fenced("TRANSCRIPT") or "").splitlines():
        match = _LINE.match(raw.strip())
        if match:
            hours, minutes, seconds, _, text = match.groups()
            start = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
            lines.append(_Line(start, [s.strip() for s in _SENTENCE.split(text) if s.strip()]))
    return lines


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _usable(sentence: str, low: int = 8, high: int = 30) -> bool:
    return low <= len(sentence.split()) <= high and not _AVOID.search(sentence) and '"' not in sentence


def _top_words(sentences: list[str], count: int, taken: set[str]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for sentence in sentences:
        for word in re.findall(r"[a-z]{5,}", sentence.lower()):
            if word not in _STOP and word not in taken:
                counts[word] += 1
    return [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:count]]


def _parts(lines: list[_Line], count: int) -> list[list[_Line]]:
    size = max(1, math.ceil(len(lines) / count))
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def _opening(sentence: str, words: int = 6) -> str:
    """A heading from a sentence's first words, as a writer would title a part."""
    head = re.split(r"[,;:]", sentence, maxsplit=1)[0].split()[:words]
    return " ".join(head).rstrip(".!?") or "The talk"


def _smart_insights(request: Question) -> dict:
    lines = _transcript_lines(request)
    themes, quotes, outline, taken = [], [], [], set()
    for part in _parts(lines, 4):
        sentences = [s for line in part for s in line.sentences]
        usable = [s for s in sentences if _usable(s)]
        words = _top_words(sentences, 2, taken) or ["ideas"]
        taken.update(words)
        title = _opening(usable[0] if usable else sentences[0])
        summary = " ".join(usable[:2]) if usable else sentences[0]
        themes.append({"title": title, "summary": summary, "keywords": words})
        quotes += [{"text": s, "theme": title} for s in usable[2:4]]
        outline.append({"start": _clock(part[0].start), "title": title, "summary": usable[0] if usable else summary})
    central = [t["summary"].split(". ")[0].rstrip(".") + "." for t in themes[:3]]
    return {
        "title": themes[0]["title"] if themes else "Notes on the talk",
        "summary": " ".join(central) if central else "A talk in the speaker's own words.",
        "themes": themes,
        "quotes": quotes or [{"text": lines[0].sentences[0], "theme": None}],
        "outline": outline,
    }


def _pack(request: Question) -> dict:
    return json.loads(request.fenced("INSIGHTS") or "{}")


def _cta(request: Question) -> str | None:
    match = re.search(r"exactly as written: (\S+)", request.user)
    return match.group(1) if match else None


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _smart_article(request: Question, *, blog: bool) -> dict:
    pack, cta = _pack(request), _cta(request)
    blocks = [pack.get("summary", "")]
    quotes = pack.get("quotes", [])
    outline = pack.get("outline", [])
    for number, theme in enumerate(pack.get("themes", [])):
        blocks += [f"## {theme['title']}", theme["summary"]]
        if blog and number < len(outline):  # a blog post walks the talk in more depth
            blocks.append(f"From {_clock(outline[number]['start'])}: {outline[number]['summary']}")
        for quote in quotes[number * 2 : number * 2 + (2 if blog else 1)]:
            blocks.append(f'> "{quote["text"]}"' + (f" ({_clock(quote['start'])})" if blog else ""))
    blocks.append("Thanks for reading, and tell me which idea you will try first.")
    if cta:
        blocks.append(f"Watch the full talk here: {cta}")
    return {"title": pack.get("title", "Notes"), "body": "\n\n".join(b for b in blocks if b)}


def _speaker(request: Question) -> str | None:
    """Whose talk the prompt says it is (None: the creator's own); a capable model attributes."""
    match = re.search(r"The talk is by (.+?), not by the creator", request.system)
    return match.group(1) if match else None


def _smart_thread(request: Question) -> dict:
    pack, cta, speaker = _pack(request), _cta(request), _speaker(request)
    opening = f"{speaker}'s talk" if speaker else "What I shared in my latest talk"
    posts = [_fit(f"{opening}, in a thread \u2193", 260)]
    posts += [_fit(t["summary"], 260) for t in pack.get("themes", [])[:5]]
    posts += [f'"{q["text"]}"' for q in pack.get("quotes", [])[:2] if len(q["text"]) < 250]
    posts.append("That's the thread. Which idea will you try first?" + (f" Full talk: {cta}" if cta else ""))
    return {"title": pack.get("title", "Thread"), "posts": posts}


def _smart_linkedin(request: Question) -> dict:
    pack, cta, speaker = _pack(request), _cta(request), _speaker(request)
    who = f"{speaker} gave a talk" if speaker else "I gave a talk"
    paragraphs = [f"{who}. Here is what matters most."]
    paragraphs += [t["summary"] for t in pack.get("themes", [])[:4]]
    paragraphs += [f'"{q["text"]}"' for q in pack.get("quotes", [])[:1]]
    if cta:
        paragraphs.append(f"The full talk: {cta}")
    paragraphs.append("What would you try first?")
    return {"title": pack.get("title", "Post"), "body": _fit("\n\n".join(paragraphs), 2900)}


def _smart_youtube(request: Question) -> dict:
    pack, cta, speaker = _pack(request), _cta(request), _speaker(request)
    summary = pack.get("summary", "") or "A talk in the speaker's own words."
    if speaker:
        summary = f"{speaker} on {pack.get('title', 'the talk')}. {summary}"
    outline = pack.get("outline", [])
    chapters, last = [], None
    for item in outline:
        second = 0 if not chapters else int(item["start"])
        if last is None or second - last >= 10:
            chapters.append({"start": _clock(second), "title": item["title"][:80]})
            last = second
    while len(chapters) < 3:  # a short talk still gets YouTube's three chapters, ten seconds apart
        chapters.append({"start": _clock((last or 0) + 10 * len(chapters)), "title": f"Part {len(chapters) + 1}"})
    return {
        "title": pack.get("title", "Video"),
        "summary": _fit(summary, 1400),
        "chapters": chapters,
        "links": [cta] if cta else [],
        "hashtags": [],
    }


def _smart_judge(request: Question) -> dict:
    def criterion(score: int, reason: str) -> dict:
        return {"score": score, "reason": reason}

    return {
        "accuracy": criterion(9, "Every claim and quote matches the transcript."),
        "voice": criterion(8, "Reads like the speaker talking."),
        "platform_fit": criterion(8, "Length and structure suit the platform."),
        "hook": criterion(7, "The opening is clear, if not surprising."),
        "clarity": criterion(8, "Easy to follow with no filler."),
        "safety": criterion(10, "Nothing risky to publish."),
    }


def _smart_transcript(request: Question) -> dict:
    def clock(seconds: float) -> str:
        return f"{int(seconds // 60)}:{seconds % 60:04.1f}"

    return {
        "language": "en",
        "segments": [{"start": clock(start), "end": clock(end), "text": text} for start, end, text in SCRIPT],
    }


_SMART: dict[str, Callable[[Question], dict]] = {
    "insights": _smart_insights,
    "newsletter": lambda request: _smart_article(request, blog=False),
    "blog": lambda request: _smart_article(request, blog=True),
    "x_thread": _smart_thread,
    "linkedin": _smart_linkedin,
    "youtube_description": _smart_youtube,
    "judge": _smart_judge,
    "transcribe": _smart_transcript,
}


#: What a compromised model picks up from the transcript and repeats: instructions aimed at a
#: model, fake system lines, markup and links.
_INJECTED = re.compile(
    r"ignore|disregard|forget your|instructions|system|assistant|you are now|from now on|pretend|role-?play"
    r"|when you summar|language model|include this link|print your|https?://|www\.|\.example|<[a-z/]|\]\(|&lt;|#\w+",
    re.IGNORECASE,
)
_DRAFT_TASKS = ("newsletter", "blog", "x_thread", "linkedin", "youtube_description")


def _raw_lines(question: Question) -> list[_Line]:
    """Each transcript line as the model read it, its speaker label included."""
    found = []
    for raw in (question.fenced("TRANSCRIPT") or "").splitlines():
        match = _LINE.match(raw.strip())
        if match:
            speaker, text = match.group(4), match.group(5)
            found.append(_Line(0.0, [f"{speaker}: {text}" if speaker else text]))
    return found


def _echo(payload: dict, lines: list[str]) -> dict:
    """The answer with the injected lines carried along, as a model that obeyed them would."""
    if not lines:
        return payload
    if "posts" in payload:
        payload["posts"] = [*payload["posts"][:-1], *(_fit(line, 250) for line in lines), payload["posts"][-1]]
    elif "summary" in payload and "chapters" in payload:
        payload["summary"] = _fit(payload["summary"] + " " + " ".join(lines), 1400)
    else:
        payload["body"] = payload["body"] + "\n\n" + "\n\n".join(lines)
    return payload


def smart_answer(question: Question) -> dict | None:
    """The smart answer's JSON for a question (None for a task it does not know)."""
    builder = _SMART.get(question.task or "")
    if builder is None:
        return None
    payload = builder(question)
    if question.echo_injection and question.task in _DRAFT_TASKS:
        payload = _echo(
            payload, [line.sentences[0] for line in _raw_lines(question) if _INJECTED.search(line.sentences[0])]
        )
    return payload
