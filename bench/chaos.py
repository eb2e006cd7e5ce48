"""``python -m bench chaos [section ...]``: faults and hostile input, from one run, as figures.

Each section is a function that runs one kind of trouble against the real product and returns
rows of (measure, figure, target). Add a section by writing its function and one entry in
``SECTIONS``.

- ``hostile_input``: a corpus of mutated, amplified, re-encoded and marked-up transcripts, each
  parsed as an upload is (in the quarantine's child process), timed one by one.
- ``webhook_targets``: internal targets in every spelling, refused when set and when sent, and
  redirects to them from a "public" receiver; a local receiver stands in for the internal
  service and counts what reached it.
- ``redis_kills``, ``worker_kills``, ``llm_faults`` (``bench/outages.py``): ``python -m pipeline
  up`` with Redis or workers killed with SIGKILL while runs go through, or with 30 % of LLM calls
  failing at the Gemini stand-in.
- ``injection`` (``bench/injection.py``): the prompt-injection corpus through ``up``, offline and
  on a Gemini stand-in that repeats the planted lines.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable

from bench.injection import injection
from bench.outages import llm_faults, redis_kills, worker_kills
from bench.product import SAMPLES, scratch_data_dir

Row = tuple[str, str, str]

STALL_S = 2.0


# --- Hostile input ---------------------------------------------------------------------------

_TOKENS = ["<", ">", "<a", "</", "<v ", "{\\", "}", "&", "&lt;", "&#", ";", "-->", "\n", "\n\n", "\r", "\x00", "é"]
_ATOMS = ["<a", "{\\", "<1", "&lt;a", "<v a<", "-->", "00:00:01,000 --> ", "[1:02] ", "A" * 40 + ": ", ". "]
_ATOMS += ["<", "&lt;", "é\n"]  # a run of openers was quadratic until round 2; one-letter lines are refused
_MARKUP = [
    "&lt;script&gt;alert(1)&lt;/script&gt; Welcome back",
    '&lt;a href="https://evil.example"&gt;Claim&lt;/a&gt; your refund',
    "&lt;img src=x onerror=alert(2)&gt; today",
    "<script>alert(3)</script> and <iframe src=x></iframe>",
    "&amp;lt;script&amp;gt; twice escaped",
    "<scr<script>ipt>alert(4)</script>",
]


def _corpus(seed: int = 13) -> list[tuple[str, bytes, str]]:
    """(kind, data, file name) for every hostile input."""
    rng = random.Random(seed)
    samples = [
        (path.suffix.lstrip("."), path.read_bytes())
        for path in sorted(SAMPLES.glob("*.*"))
        if path.suffix in (".srt", ".vtt", ".txt")
    ]
    corpus = [
        ("mutated", _mutate(rng, data), f"m.{suffix}") for _ in range(700) for suffix, data in [rng.choice(samples)]
    ]
    corpus += [("fuzzed", _fuzzed(rng), f"f.{rng.choice(['srt', 'vtt', 'txt'])}") for _ in range(600)]
    header = {
        "srt": "1\n00:00:01,000 --> 00:00:02,000\n",
        "vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n",
        "txt": "",
    }
    for size in (128 * 1024, 1024 * 1024, 5 * 1024 * 1024 - 200):
        for atom in _ATOMS:
            for suffix, head in header.items():
                corpus.append(
                    (f"amplified {size // 1024} KB", (head + atom * (size // len(atom))).encode()[:size], f"a.{suffix}")
                )
    talk = (SAMPLES / "creator-workflow-talk.srt").read_text(
        encoding="utf-8"
    ) + "\n\n999\n00:10:00,000 --> 00:10:02,000\nCafé naïve — “quoted”\n"
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"):
        corpus.append((f"encoding {encoding}", talk.encode(encoding), "e.srt"))
    corpus += [("encoding binary", bytes(rng.randrange(256) for _ in range(4096)), "b.srt")]
    for number, line in enumerate(_MARKUP, 1):
        corpus.append(("markup", f"{number}\n00:00:0{number},000 --> 00:00:0{number},900\n{line}\n".encode(), "x.srt"))
    return corpus


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        at = rng.randrange(len(out) or 1)
        action = rng.random()
        if action < 0.4:
            out[at:at] = rng.choice(_TOKENS).encode()
        elif action < 0.7:
            del out[at : at + rng.randint(1, 20)]
        else:
            out[at : at + 1] = bytes([rng.randrange(256)])
    return bytes(out)


def _fuzzed(rng: random.Random) -> bytes:
    return "".join(rng.choice(_TOKENS + ["word ", "00:00:0", "1\n"]) for _ in range(rng.randint(1, 400))).encode()


def hostile_input() -> list[Row]:
    from pipeline.quarantine import ParseTimeout, Quarantine
    from pipeline.transcript import TranscriptFormatError

    quarantine = Quarantine(timeout_s=60)
    corpus = _corpus()
    crashes, stalls, refused, markup_left, slowest = [], [], 0, 0, (0.0, "")
    try:
        for kind, data, name in corpus:
            started = time.perf_counter()
            try:
                transcript = quarantine.call("parse_transcript", data, name)
                markup_left += kind == "markup" and any(
                    tag in transcript.text.lower() for tag in ("<script", "<a ", "<img", "<iframe")
                )
            except TranscriptFormatError:
                refused += 1
            except ParseTimeout:
                stalls.append(kind)
            except Exception as exc:  # a crash: not the product's own refusal
                crashes.append(f"{kind}: {exc!r}"[:200])
            took = time.perf_counter() - started
            if took > STALL_S:
                stalls.append(f"{kind} ({took:.1f} s)")
            slowest = max(slowest, (took, kind))
    finally:
        quarantine.stop()
    quadratic = [_round_one_case(size) for size in (128 * 1024, 1024 * 1024)]
    for line in crashes[:5] + stalls[:5]:
        print(f"  ! {line}", file=sys.stderr)
    return [
        (
            "hostile inputs parsed as uploads (mutated, fuzzed, amplified to 5 MB, encodings, markup)",
            f"{len(corpus)}",
            "",
        ),
        ("… refused with a reason / read", f"{refused} / {len(corpus) - refused - len(crashes) - len(stalls)}", ""),
        ("crashes", str(len(crashes)), "0"),
        (f"stalls over {STALL_S:.0f} s", str(len(set(stalls))), "0"),
        ("slowest parse", f"{slowest[0]:.2f} s ({slowest[1]})", f"< {STALL_S:.0f} s"),
        ("markup left in a parsed transcript", str(markup_left), "0"),
        (
            "round one's quadratic case, a cue of '<a': 128 KB (was 4.6 s) / 1 MB (held the UI 223 s)",
            " / ".join(f"{took:.2f} s" for took in quadratic),
            f"< {STALL_S:.0f} s",
        ),
    ]


def _round_one_case(size: int) -> float:
    """Seconds to parse a cue of repeated ``<a`` of ``size`` bytes, as the Submit page does."""
    from pipeline.quarantine import parse_transcript

    data = ("1\n00:00:01,000 --> 00:00:02,000\n" + "<a" * (size // 2)).encode()
    started = time.perf_counter()
    parse_transcript(data, "talk.srt")
    return time.perf_counter() - started


# --- Webhook targets -------------------------------------------------------------------------

_INTERNAL = [
    ("loopback", "http://127.0.0.1:{port}/hook"),
    ("loopback by name", "http://localhost:{port}/hook"),
    ("loopback IPv6", "http://[::1]:{port}/hook"),
    ("link-local", "http://169.254.10.10/hook"),
    ("cloud metadata", "http://169.254.169.254/latest/meta-data/"),
    ("private 10/8", "http://10.1.2.3/hook"),
    ("CGNAT", "http://100.64.0.1/hook"),
    ("decimal 127.0.0.1", "http://2130706433:{port}/hook"),
    ("octal 127.0.0.1", "http://0177.0.0.1:{port}/hook"),
    ("hex 127.0.0.1", "http://0x7f000001:{port}/hook"),
    ("IPv6-mapped 127.0.0.1", "http://[::ffff:127.0.0.1]:{port}/hook"),
    ("IPv6-mapped metadata", "http://[::ffff:a9fe:a9fe]/latest/meta-data/"),
]


def webhook_targets() -> list[Row]:
    from pipeline import api, retrying, webhooks
    from pipeline.errors import InvalidInput
    from pipeline.urlguard import ConnectionGuard
    from tests.support.http import Recorder

    quick = retrying.CallPolicy(max_tries=2, budget_s=10, initial_s=0.05)
    set_refused = sent_refused = redirects_refused = 0
    with scratch_data_dir(), Recorder() as internal:
        port = internal.server.server_address[1]
        targets = [(label, url.format(port=port)) for label, url in _INTERNAL]
        for _label, url in targets:
            try:
                api.configure_workspace("chaos", webhook_url=url)
            except InvalidInput:
                set_refused += 1
            result = webhooks.send_event(url, "evt", {}, "whsec_chaos", policy=quick)
            sent_refused += result.status == "refused" and result.response_code is None
        for _label, url in targets:  # a "public" receiver that redirects to each internal target
            with Recorder(replies=[(302, {"Location": url})]) as public:
                guard = ConnectionGuard(exempt=frozenset({("127.0.0.1", public.server.server_address[1])}))
                result = webhooks.send_event(public.url, "evt", {}, "whsec_chaos", guard=guard, policy=quick)
            redirects_refused += result.status != "sent"
        reached = len(internal.requests)
    total = len(targets)
    return [
        ("internal targets refused when the webhook is set", f"{set_refused} / {total}", f"{total} / {total}"),
        ("… refused at send time, no request made, no status kept", f"{sent_refused} / {total}", f"{total} / {total}"),
        (
            "redirects from a public receiver to them not followed",
            f"{redirects_refused} / {total}",
            f"{total} / {total}",
        ),
        ("requests that reached the internal service", str(reached), "0"),
    ]


# --- The table -------------------------------------------------------------------------------

#: name -> the section.
SECTIONS: dict[str, Callable[[], list[Row]]] = {
    "hostile_input": hostile_input,
    "webhook_targets": webhook_targets,
    "redis_kills": redis_kills,
    "worker_kills": worker_kills,
    "llm_faults": llm_faults,
    "injection": injection,
}


def main(names: list[str]) -> int:
    chosen = names or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"load average at the start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print("| section | measure | figure | target |\n|---|---|---|---|")
    for name in chosen:
        started = time.perf_counter()
        for measure, figure, target in SECTIONS[name]():
            print(f"| {name} | {measure} | {figure} | {target} |", flush=True)
        print(f"| {name} | section took | {time.perf_counter() - started:.0f} s | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
