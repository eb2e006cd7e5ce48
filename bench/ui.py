"""UI benchmark: the first render of Runs and of Run detail with 10,000 jobs in the database.

``python -m bench.ui [--jobs 10000] [--repeat 7] [--no-browser]``

1. Seed a DuckDB file in a temp data dir through the store: the 1-hour workshop transcript and
   the 14-minute talk go through the real pipeline in this process (the runner runs every
   queued step attempt, as a burst worker would). The other jobs are copies of the talk made
   in bulk SQL inside one store session, each with its run, step attempts, status changes, log
   lines, artifacts, draft versions and usage row; statuses, QA scores, workspaces and
   submission times are spread over 30 days.
2. Time the page-facing reads (``pipeline.views``) alone.
3. Time the first render of each page in a new session with Streamlit's AppTest (the script
   run on the server), and in real Chromium against ``streamlit run app.py`` (from navigation
   to the page's last element on screen: what a person waits for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from pipeline.supervisor import Endpoint, streamlit_command
from tests.support.browser import CHROMIUM_ARGS, chromium_path, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT_ROOT / "data" / "samples"
WORKSPACES = ("default", "studio-north", "agency-south")


def process(name: str) -> str:
    from pipeline import api
    from pipeline.runner import run_queued

    path = SAMPLES / name
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=name).job_id
    run_queued()
    return job_id


# --- Seeding -----------------------------------------------------------------------------

_SEED = """
CREATE TEMP TABLE seed AS
SELECT i,
       printf('job_s%09d', i) AS job_id,
       printf('job_s%09d', i) || '.r1' AS run_id,
       CASE WHEN i % 53 = 0 THEN 'FAILED' WHEN i % 41 = 0 THEN 'REQUIRES_MANUAL_REVIEW'
            WHEN i % 97 = 0 THEN 'NEEDS_USER_INPUT' ELSE 'ANALYTICS_LOGGED' END AS status,
       (?::VARCHAR[])[1 + i % 3] AS workspace,
       ?::TIMESTAMP - to_seconds(i * (30 * 86400 // ?)) AS created_at,
       55 + (i * 7919) % 46 AS qa_score
FROM range(1, ?) t(i)
"""

_COPIES = [
    """INSERT INTO jobs SELECT s.job_id, s.workspace, t.source_kind, printf('talk-%05d.srt', s.i), t.options,
           'seed-' || s.i, s.status, CASE WHEN s.status = 'FAILED' THEN 'GENERATION_FAILED: the model timed out' END,
           CASE WHEN s.status = 'FAILED' THEN 'GENERATION_FAILED' END, t.title || ' ' || s.i, t.duration_s,
           t.metadata, s.qa_score, s.created_at, s.created_at + (t.updated_at - t.created_at), t.submitted_by
       FROM seed s, jobs t WHERE t.job_id = $template""",
    """INSERT INTO job_runs SELECT s.run_id, s.job_id, 1, r.start_step, r.reason, s.created_at,
           s.created_at + (r.finished_at - t.created_at)
       FROM seed s, job_runs r, jobs t WHERE r.job_id = $template AND t.job_id = $template""",
    """INSERT INTO run_steps (run_id, job_id, step, attempt, status, error_code, error_message, queued_at,
                             not_before, started_at, finished_at, worker, body_ms)
       SELECT s.run_id, s.job_id, x.step, x.attempt, x.status, x.error_code, x.error_message,
              s.created_at + (x.queued_at - t.created_at), NULL, s.created_at + (x.started_at - t.created_at),
              s.created_at + (x.finished_at - t.created_at), x.worker, x.body_ms
       FROM seed s, run_steps x, jobs t WHERE x.job_id = $template AND t.job_id = $template""",
    """INSERT INTO status_changes (job_id, run_id, from_status, to_status, move, reason, actor, changed_at)
       SELECT s.job_id, s.run_id, c.from_status, c.to_status, c.move, c.reason, c.actor,
              s.created_at + (c.changed_at - t.created_at)
       FROM seed s, status_changes c, jobs t WHERE c.job_id = $template AND t.job_id = $template ORDER BY s.i, c.id""",
    """INSERT INTO run_logs (job_id, run_id, step, attempt, logged_at, level, message)
       SELECT s.job_id, s.run_id, l.step, l.attempt, s.created_at + (l.logged_at - t.created_at), l.level, l.message
       FROM seed s, run_logs l, jobs t WHERE l.job_id = $template AND t.job_id = $template""",
    """INSERT INTO artifacts SELECT s.job_id, s.run_id, a.step, a.kind, a.format, a.content, a.chars, a.provider,
           a.model, a.prompt_name, a.prompt_version, a.tokens_in, a.tokens_out, a.cost_usd, a.latency_ms,
           s.created_at + (a.created_at - t.created_at)
       FROM seed s, artifacts a, jobs t WHERE a.job_id = $template AND t.job_id = $template""",
    """INSERT INTO draft_versions SELECT s.job_id, d.format, d.version, d.title, d.body, d.posts, d.source, d.author,
           s.run_id, d.note, s.created_at + (d.created_at - t.created_at)
       FROM seed s, draft_versions d, jobs t WHERE d.job_id = $template AND t.job_id = $template""",
    """INSERT INTO usage SELECT s.run_id, s.job_id, s.workspace, u.minutes, u.tokens_in, u.tokens_out,
           0.0021 * u.minutes, s.created_at + (u.recorded_at - t.created_at)
       FROM seed s, usage u, jobs t WHERE u.job_id = $template AND t.job_id = $template
         AND s.status = 'ANALYTICS_LOGGED'""",
]


def seed(jobs: int) -> str:
    """Fill the store; returns the id of the 1-hour job."""
    from pipeline.store import get_store, utcnow
    from pipeline.store import usage as usage_rows

    long_job = process("long-workshop.srt")
    template = process("creator-workflow-talk.srt")
    with get_store().session() as db:
        for name in WORKSPACES:
            usage_rows.ensure_workspace(db, name)
        db.execute(_SEED, [list(WORKSPACES), utcnow(), jobs, jobs - 1])
        for statement in _COPIES:
            db.execute(statement.replace("$template", "?"), [template] * statement.count("$template"))
        db.execute("DROP TABLE seed")
    return long_job


# --- Measuring ---------------------------------------------------------------------------


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"{label:<44} median {statistics.median(ms):7.0f} ms   max {ms[-1]:7.0f} ms   (n={len(ms)})"


def measure_views(long_job: str, repeat: int) -> list[str]:
    from pipeline import views

    return [
        summary("views.runs (first page)", [timed(views.runs) for _ in range(repeat)]),
        summary(
            "views.runs (status + text filter)",
            [timed(lambda: views.runs(statuses=["FAILED"], text="talk")) for _ in range(repeat)],
        ),
        summary(
            "views.run_header (before the heading)", [timed(lambda: views.run_header(long_job)) for _ in range(repeat)]
        ),
        summary(
            "views.run_tab Drafts (1-hour job)",
            [timed(lambda: views.run_tab(long_job, "Drafts")) for _ in range(repeat)],
        ),
        summary(
            "views.run_tab Transcript (1-hour job)",
            [timed(lambda: views.run_tab(long_job, "Transcript")) for _ in range(repeat)],
        ),
    ]


def apptest_render(page: str, **query: str) -> float:
    """A new session: the app registers its pages, then the first render of ``page`` is timed."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    seconds = timed(at.run)
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return seconds


def measure_apptest(long_job: str, repeat: int) -> list[str]:
    cold_runs = apptest_render("pages/runs.py")
    cold_detail = apptest_render("pages/run.py", job=long_job)
    lines = [
        f"first session in a fresh process: Runs {cold_runs * 1000:.0f} ms, Run detail {cold_detail * 1000:.0f} ms"
    ]
    for label, page, query in [
        ("Runs", "pages/runs.py", {}),
        ("Run detail (opens on Drafts)", "pages/run.py", {"job": long_job}),
        ("Run detail, Timeline tab", "pages/run.py", {"job": long_job, "tab": "Timeline"}),
        ("Run detail, Transcript tab", "pages/run.py", {"job": long_job, "tab": "Transcript"}),
    ]:
        lines.append(summary(f"AppTest {label}", [apptest_render(page, **query) for _ in range(repeat)]))
    return lines


# --- In a real browser -------------------------------------------------------------------


def start_ui(port: int, script: Path = PROJECT_ROOT / "app.py") -> subprocess.Popen:
    command = streamlit_command(Endpoint("127.0.0.1", port), script=script)
    ui = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2):
                return ui
        except OSError:
            time.sleep(0.2)
    ui.kill()
    raise RuntimeError("streamlit did not start")


def browser_render(browser, url: str, marks) -> dict[str, float]:
    """A new browser context (a new session, an empty cache): seconds from navigation until each
    mark is on screen, each timed on its own (a late sidebar does not delay the heading's time)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    seen: dict[str, float] = {}
    while len(seen) < len(marks):
        for name, locate in marks:
            if name not in seen and locate(page).first.is_visible():
                seen[name] = time.perf_counter() - started
        if time.perf_counter() - started > 60:
            raise RuntimeError(f"{url}: not on screen after 60 s: {[n for n, _ in marks if n not in seen]}")
        time.sleep(0.01)
    if page.get_by_test_id("stException").count():
        raise RuntimeError(page.get_by_test_id("stException").first.inner_text())
    context.close()
    return {name: seen[name] for name, _ in marks}


#: What a person sees: the app (its navigation), the page's heading, the page complete.
RUNS_MARKS = [
    ("app", lambda page: page.get_by_role("link", name="Analytics")),
    ("heading", lambda page: page.get_by_role("heading", name="Runs")),
    ("table", lambda page: page.get_by_test_id("stDataFrame")),
]


def detail_marks(title: str) -> list:
    """A delivered job opens on its drafts: the editor, then its preview and copy button. The
    heading is the job's title (the insight pack's, once there is one)."""
    return [
        ("app", lambda page: page.get_by_role("link", name="Analytics")),
        ("heading", lambda page: page.get_by_role("heading", name=title)),
        ("drafts", lambda page: page.get_by_label("Newsletter text")),
        ("preview", lambda page: page.locator(".draft-preview")),
        ("copy button", lambda page: page.get_by_role("button", name="Copy the whole draft")),
    ]


def timeline_marks(title: str) -> list:
    return [
        ("heading", lambda page: page.get_by_role("heading", name=title)),
        ("timeline chart", lambda page: page.get_by_test_id("stPlotlyChart")),
    ]


def browser_lines(label: str, samples: list[dict[str, float]]) -> list[str]:
    return [summary(f"Chromium {label}: {mark}", [sample[mark] for sample in samples]) for mark in samples[0]]


def measure_floor(folder: Path, repeat: int) -> list[str]:
    """The same measurement for a Streamlit page holding only a heading: Streamlit's own start
    in the browser, which every page pays before its first element."""
    from playwright.sync_api import sync_playwright

    script = folder / "floor.py"
    script.write_text('import streamlit as st\n\nst.title("Floor")\n')
    port = free_port()
    ui = start_ui(port, script)
    marks = [("heading", lambda page: page.get_by_role("heading", name="Floor"))]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            browser_render(browser, f"http://localhost:{port}/", marks)
            samples = [browser_render(browser, f"http://localhost:{port}/", marks) for _ in range(repeat)]
            browser.close()
    finally:
        ui.terminate()
        ui.wait(timeout=30)
    return browser_lines("page with one heading (floor)", samples)


def measure_browser(long_job: str, repeat: int) -> list[str]:
    from playwright.sync_api import sync_playwright

    from pipeline import api

    title = api.status_report(long_job)["title"]
    port = free_port()
    ui = start_ui(port)
    base = f"http://localhost:{port}"
    pages = [
        ("Runs", f"{base}/runs", RUNS_MARKS),
        ("Run detail", f"{base}/run?job={long_job}", detail_marks(title)),
        ("Run detail, Timeline tab", f"{base}/run?job={long_job}&tab=Timeline", timeline_marks(title)),
    ]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            cold = [browser_render(browser, url, marks) for _, url, marks in pages]
            lines = [
                f"Chromium, first visit after the server started: Runs {max(cold[0].values()) * 1000:.0f} ms, "
                f"Run detail {max(cold[1].values()) * 1000:.0f} ms"
            ]
            for label, url, marks in pages:
                lines += browser_lines(label, [browser_render(browser, url, marks) for _ in range(repeat)])
            browser.close()
    finally:
        ui.terminate()
        ui.wait(timeout=30)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ui", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clipinsight-bench-ui-") as tmp:
        os.environ["CLIPINSIGHT_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ.pop("REDIS_URL", None)
        started = time.perf_counter()
        long_job = seed(args.jobs)
        size = (Path(tmp) / "data" / "clipinsight.duckdb").stat().st_size / 1e6
        print(f"seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s; database {size:.0f} MB")
        for line in measure_views(long_job, args.repeat) + measure_apptest(long_job, args.repeat):
            print(line, flush=True)
        if not args.no_browser:
            for line in measure_floor(Path(tmp), args.repeat) + measure_browser(long_job, args.repeat):
                print(line, flush=True)


if __name__ == "__main__":
    main()
