"""What untrusted text (a transcript, a model's answer) may carry that must never be published
unseen: instructions aimed at an AI, fake system or role lines, markup, and links.

The offline provider never picks a sentence that holds one; QA flags any that reaches a draft
and sends the job to an editor. The patterns are deliberately wide: a false alarm costs an
editor a glance, a miss publishes someone else's instruction under the creator's name.
"""

from __future__ import annotations

import re

from pipeline.text import find_links

__all__ = ["find_instructions", "find_markup", "find_links", "holds_untrusted", "strip_markup", "fake_speaker"]

_INSTRUCTIONS = re.compile(
    # "ignore/forget/disregard all previous instructions", "disregard the above"
    r"\b(?:ignore|forget|disregard|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+)*"
    r"(?:previous|prior|above|earlier|preceding|former|original|system|safety)"
    r"(?:\s+(?:instructions?|prompts?|rules|directions|messages?|guidelines|context))?"
    r"|\bdisregard\s+(?:all\s+|everything\s+)?(?:the\s+)?above\b"
    r"|\b(?:ignore|disregard)\s+(?:everything|anything)\s+(?:you\s+(?:were|have\s+been)\s+told|above|before\s+this)"
    # talking to the model about its prompt or nature
    r"|\bsystem\s+prompt\b|\bhidden\s+prompt\b"
    r"|\bas\s+an?\s+(?:ai|large)\s+language\s+model\b"
    r"|\breveal\s+your\s+(?:instructions|prompt|rules)\b"
    # role-play and new orders
    r"|\byou\s+are\s+now\b|\bfrom\s+now\s+on,?\s+you\b"
    r"|\bpretend\s+(?:you(?:'re|\s+are)|to\s+be|that\s+you)\b|\bact\s+as\s+(?:if\s+you|an?|the|my)\b"
    r"|\blet'?s\s+role[- ]?play\b|\brole[- ]?play(?:\s+as\b|\s*:)|\bstay\s+in\s+character\b|\bdeveloper\s+mode\b"
    r"|\bjailbreak\w*\b|\bDAN\s+mode\b|\byou\s+are\s+DAN\b"
    r"|\b(?:new|override|updated|real)\s+(?:your\s+)?instructions\s*:"
    r"|\b(?:assistant|ai|chatbot|model|gpt|gemini|claude)\s*[,:]\s*(?:ignore|disregard|forget|write|say|add|include|"
    r"insert|output|print|respond|append|tell)\b"
    r"|\b(?:when|if)\s+you\s+(?:summari[sz]e|write\s+(?:the|a|any)\s+(?:summary|draft|post|thread|newsletter|blog))"
    r"|\b(?:include|insert|add|append)\s+(?:this|the\s+following)\s+(?:link|url|text|line)\b",
    re.IGNORECASE,
)
#: Lines dressed up as a chat protocol's turns or a prompt's headers.
_FAKE_TURN = re.compile(
    r"(?:^|\s)(?:\[\s*(?:system|inst|/inst|assistant)\s*\]|<\|?\s*(?:im_start|im_end|system|endoftext)\s*\|?>"
    r"|#{2,}\s*(?:instruction|system|response)\b|\bsystem\s*:\s|\bSYSTEM\s+(?:MESSAGE|NOTE|OVERRIDE)\b"
    r"|<</?SYS>>|\bBEGIN\s+(?:SYSTEM|INSTRUCTIONS)\b)",
    re.IGNORECASE,
)
#: HTML tags and entities, and Markdown links or images: markup that would render, not read.
_MARKUP = re.compile(
    r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);"
    r"|!?\[[^\]\n]{1,200}\]\([^)\s]{1,500}\)|\bjavascript:",
)


#: Speaker labels that dress a line up as the machine's own turn ("SYSTEM NOTE: ...").
_FAKE_SPEAKER = re.compile(
    r"^\s*(?:system|assistant|ai|bot|chatbot|model|instructions?|admin(?:istrator)?|developer|operator|gpt|gemini|"
    r"claude|llm|prompt)\b",
    re.IGNORECASE,
)


def fake_speaker(label: str | None) -> bool:
    """Whether a transcript's speaker label claims to be a system, an assistant or a model."""
    return bool(label) and bool(_FAKE_SPEAKER.match(label))


def find_instructions(text: str) -> list[str]:
    """Phrases of ``text`` that read like instructions to an AI, or like a fake system or
    assistant line (prompt injection)."""
    found = [m.group(0).strip() for m in _INSTRUCTIONS.finditer(text)]
    return found + [m.group(0).strip() for m in _FAKE_TURN.finditer(text)]


def find_markup(text: str) -> list[str]:
    """HTML tags, entities, and Markdown links or images in ``text``."""
    return [m.group(0) for m in _MARKUP.finditer(text)]


def holds_untrusted(text: str) -> bool:
    """Whether ``text`` carries anything a draft must not repeat unseen: an instruction, a fake
    system line, markup or a link."""
    return bool(find_instructions(text) or find_markup(text) or find_links(text))


def strip_markup(text: str) -> str:
    """``text`` with HTML tags removed and Markdown links reduced to their words."""
    text = re.sub(r"!?\[([^\]\n]{1,200})\]\([^)\s]{1,500}\)", r"\1", text)
    return re.sub(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>", "", text)
