"""Text encodings of uploaded files: which one a file is in, decided by a fixed ladder, and a
sentence telling the creator what was assumed.

The ladder, first match wins:

1. a byte-order mark: UTF-32, UTF-8 or UTF-16 (little or big endian);
2. UTF-16 without a mark, recognised by the zero byte beside nearly every ASCII character;
3. any other zero byte: a binary file, refused;
4. valid UTF-8 (nearly every file today, and all plain ASCII);
5. Windows-1252, the encoding of Western text saved by older Windows tools; the creator is told,
   since a file in another legacy encoding (Cyrillic, Japanese) also decodes, wrongly.

A statistical detector (charset-normalizer) was measured on short Western transcripts and named
cp1250 or cp1006 for them, turning "naïve" into "naď"; a fixed ladder is predictable and its one
guess is said out loud. Linear in the size of the file.
"""

from __future__ import annotations

import codecs

from pipeline.errors import InvalidInput

__all__ = ["decode_bytes", "describe", "UTF8", "WINDOWS_1252"]

UTF8 = "utf-8"
WINDOWS_1252 = "windows-1252"

#: Longest marks first: the UTF-32-LE mark begins with the UTF-16-LE one.
_MARKS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, UTF8),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_SAMPLE = 4096
_NOT_TEXT = "this looks like a binary file, not a transcript (SRT, VTT or text)"


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) or :class:`InvalidInput` with what to do about it."""
    encoding = _encoding(data)
    try:
        return data.decode("utf-8-sig" if encoding == UTF8 else encoding), encoding  # -sig drops the mark
    except UnicodeDecodeError:
        if encoding != UTF8:
            raise InvalidInput(f"the file is not valid {encoding} text; save it as UTF-8 and try again") from None
    try:
        return data.decode(WINDOWS_1252), WINDOWS_1252
    except UnicodeDecodeError:
        raise InvalidInput(
            "the transcript is not text in an encoding ClipInsight reads (UTF-8, UTF-16 or Windows-1252); "
            "save it as UTF-8 and try again"
        ) from None


def _encoding(data: bytes) -> str:
    for mark, name in _MARKS:
        if data.startswith(mark):
            return name
    unmarked = _unmarked_utf16(data[:_SAMPLE])
    if unmarked:
        return unmarked
    if b"\x00" in data[:_SAMPLE]:
        raise InvalidInput(_NOT_TEXT)
    return UTF8


def _unmarked_utf16(sample: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters has a zero in every other byte."""
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    zero_even = sample[0 : pairs * 2 : 2].count(0)
    zero_odd = sample[1 : pairs * 2 : 2].count(0)
    if zero_odd >= 0.8 * pairs and zero_even == 0:
        return "utf-16-le"
    if zero_even >= 0.8 * pairs and zero_odd == 0:
        return "utf-16-be"
    return None


_NOTES = {
    WINDOWS_1252: (
        "Read as Windows-1252 because the file is not valid UTF-8. If accented letters or quotes "
        "look wrong, save the file as UTF-8 and upload it again."
    ),
    "utf-16": "Read as UTF-16 (the file starts with its byte-order mark).",
    "utf-32": "Read as UTF-32 (the file starts with its byte-order mark).",
    "utf-16-le": "Read as UTF-16 (little-endian, recognised without a byte-order mark).",
    "utf-16-be": "Read as UTF-16 (big-endian, recognised without a byte-order mark).",
}


def describe(encoding: str | None) -> str | None:
    """What the creator should know about how their file was read (None: nothing to say)."""
    return _NOTES.get(encoding or UTF8)
