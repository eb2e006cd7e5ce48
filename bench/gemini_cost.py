"""What a content pack costs on Gemini, per hour of video.

The Gemini provider runs with its real prompts and the real google-genai client against the
local Gemini server of the tests, on the bundled transcripts. The server counts input tokens
as Gemini's rule of thumb does (four characters a token), so the input figures are those of the
real requests. Output is given twice: what the local server answered (short answers, no
thinking: the floor) and the ceiling the prompt files allow (their target lengths plus the whole
thinking budget). Speech recognition, for media without captions, is priced from the audio
length (32 tokens a second) and the sample transcript as the JSON answer.

Run: ``python -m bench.gemini_cost``.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from pipeline import defaults
from pipeline.options import JobOptions
from pipeline.prompts import load_prompt
from pipeline.providers.gemini import GeminiContentProvider, TranscriptAnswer, estimate_cost
from pipeline.settings import Settings
from pipeline.transcript import Transcript, parse_transcript, timestamp
from tests.support.gemini_server import AUDIO_TOKENS_PER_SECOND, CHARS_PER_TOKEN, GeminiServer

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _target_tokens(prompt_name: str) -> int:
    """The longest answer the prompt asks for, in tokens (0 when it sets no length)."""
    params = load_prompt(prompt_name).params
    if "max_words" in params:
        return math.ceil(params["max_words"] * defaults.TOKENS_PER_WORD)
    if "max_characters" in params:
        return math.ceil(params["max_characters"] / CHARS_PER_TOKEN)
    if "max_posts" in params:
        return math.ceil(params["max_posts"] * 280 / CHARS_PER_TOKEN)
    return 0


def _calls(transcript: Transcript, base_url: str) -> list[tuple[str, int, int]]:
    """(prompt name, input tokens, output tokens) of one content pack: insights, 4 drafts, 4 judges."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()),
        gemini_api_key="bench",
        gemini_base_url=base_url,
        gemini_rpm=10_000,
        gemini_tpm=10**9,
    )
    provider, options = GeminiContentProvider(settings), JobOptions(cta_url="https://example.com/watch")
    made = [provider.insights(transcript, options)]
    pack = made[0].value
    for fmt in options.formats:
        draft = provider.draft(fmt, transcript, pack, options)
        made += [draft, provider.judge(draft.value, transcript)]
    return [(g.provenance.prompt_name, g.provenance.tokens_in, g.provenance.tokens_out) for g in made]


def _ceiling(name: str, measured_out: int) -> int:
    prompt = load_prompt(name)
    return max(measured_out, _target_tokens(name)) + prompt.params.get("thinking_budget", 0)


def _asr(transcript: Transcript) -> tuple[int, int]:
    """(input tokens, output tokens) of transcribing the sample's audio."""
    answer = TranscriptAnswer(
        segments=[
            {"start": timestamp(s.start), "end": timestamp(s.end), "speaker": s.speaker, "text": s.text}
            for s in transcript.segments
        ]
    )
    audio = round(transcript.duration * AUDIO_TOKENS_PER_SECOND)
    prompt = load_prompt("transcribe")
    text = len(prompt.template["system"]) + len(prompt.template["user"])
    return audio + math.ceil(text / CHARS_PER_TOKEN), math.ceil(len(answer.model_dump_json()) / CHARS_PER_TOKEN)


MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite")


def report(sample: str, base_url: str) -> None:
    transcript = parse_transcript((SAMPLES / sample).read_bytes(), sample)
    hours = transcript.duration / 3600
    calls = _calls(transcript, base_url)
    print(f"{sample} ({timestamp(transcript.duration)}, {transcript.word_count} words):")
    for name, tin, tout in calls:
        print(f"  {name:<18} in {tin:>7,}  out {tout:>6,} (ceiling {_ceiling(name, tout):>6,})")
    tokens_in, low_out = sum(c[1] for c in calls), sum(c[2] for c in calls)
    high_out = sum(_ceiling(name, out) for name, _, out in calls)
    asr_in, asr_out = _asr(transcript)
    audio = round(transcript.duration * AUDIO_TOKENS_PER_SECOND)
    print(f"  content pack: {len(calls)} calls, {tokens_in:,} tokens in, {low_out:,}-{high_out:,} out")
    print(f"  speech recognition: {asr_in:,} tokens in ({audio:,} audio), {asr_out:,} out")
    for model in MODELS:
        low, high = estimate_cost(model, tokens_in, low_out), estimate_cost(model, tokens_in, high_out)
        asr = estimate_cost(model, asr_in, asr_out, audio_tokens=audio)
        print(
            f"  {model}: pack ${low:.4f}-${high:.4f} (${low / hours:.3f}-${high / hours:.3f} per hour), "
            f"speech recognition ${asr:.4f} (${asr / hours:.3f} per hour)"
        )


def main() -> None:
    with GeminiServer() as server:
        for sample in ("creator-workflow-talk.srt", "long-workshop.srt"):
            report(sample, server.base_url)


if __name__ == "__main__":
    main()
