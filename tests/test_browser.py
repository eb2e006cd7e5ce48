"""The workbench end to end in real Chromium, against ``python -m pipeline up``.

The content provider is the offline one, slowed down like a remote model
(``tests.support.providers:slow``) so that a job is visibly on its way before it is done.
Screenshots of every page land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import getpass
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import SAMPLES
from tests.support.browser import CHROMIUM_ARGS, SCREENSHOTS, Product, chromium_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="needs Chromium: apt-get install chromium (make system-deps)"),
]

JOB_ID = re.compile(r"job_[0-9a-f]{10}")
#: With no login configured the UI's one user is the local owner, named after the OS user.
LOCAL_OWNER = getpass.getuser()
WAIT_MS = 90_000


@pytest.fixture
def product(data_dir):
    started = Product(
        data_dir, workers=2, CLIPINSIGHT_PROVIDER="tests.support.providers:slow", CLIPINSIGHT_TEST_LLM_DELAY="2"
    ).start()
    yield started
    left = started.stop()
    assert left == [], f"still running after SIGTERM: {left}\n{started.log()[-2000:]}"


@pytest.fixture
def page(product):

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(30_000)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(product.url)
        tab.get_by_text("workers alive").wait_for()
        yield tab
        browser.close()
    assert errors == []


def shoot(page, name: str) -> None:
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def go(page, link: str) -> None:
    """Navigate inside the app (the sidebar), without loading the page again."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()


def submitted_job(page) -> str:
    message = page.get_by_text(re.compile(r"Submitted job job_"))
    message.wait_for()
    return JOB_ID.search(message.inner_text()).group(0)


def follow_on_runs(page, job_id: str) -> None:
    go(page, "Runs")
    box = page.get_by_role("combobox", name="Job")
    box.click()
    box.fill(job_id)
    page.keyboard.press("Enter")


def status_line(page, job_id: str, status: str):
    return page.get_by_text(re.compile(rf"{job_id} \(.*\) is {status}"))


def test_sample_runs_live_on_runs_then_a_draft_edit_survives_a_reload(page):
    page.get_by_role("button", name="Run the sample").click()
    job_id = submitted_job(page)
    shoot(page, "submit")
    page.evaluate("window.__sameDocument = true")

    follow_on_runs(page, job_id)
    page.get_by_test_id("stProgress").filter(has_text=job_id).first.wait_for()  # on its way, with a progress bar
    shoot(page, "runs-live")
    status_line(page, job_id, "ANALYTICS_LOGGED").wait_for(timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True  # the table updated itself: no reload
    shoot(page, "runs")

    page.get_by_role("button", name="Open run").click()
    page.get_by_role("heading", name="Creator workflow talk").wait_for()
    page.get_by_role("tab", name="Timeline").click()
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    shoot(page, "run-detail-timeline")
    page.get_by_role("tab", name="Drafts").click()
    page.get_by_role("tab", name="LinkedIn post").click()
    edited = "Edited in the browser.\n\nOne talk became eleven posts a week. Here is the routine."
    page.get_by_label("LinkedIn post text").fill(edited)
    page.get_by_role("button", name="Save LinkedIn post as a new version").click()
    page.get_by_text(f"Saved the LinkedIn post as version 2 (by {LOCAL_OWNER}).").wait_for()

    page.reload()
    page.get_by_role("tab", name="LinkedIn post").click()
    expect(page.get_by_label("LinkedIn post text")).to_have_value(edited)
    page.get_by_text(re.compile(rf"Version 2 · edit by {LOCAL_OWNER}")).wait_for()
    shoot(page, "run-detail-drafts")


def test_a_flagged_draft_is_approved_on_review_and_the_job_is_delivered(page):
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(SAMPLES / "risky-interview.srt")
    page.get_by_text("Left this month").wait_for()
    page.get_by_role("button", name="Submit", exact=True).click()
    job_id = submitted_job(page)

    follow_on_runs(page, job_id)
    status_line(page, job_id, "REQUIRES_MANUAL_REVIEW").wait_for(timeout=WAIT_MS)

    go(page, "Review")
    page.get_by_text(re.compile(r"93%.*check them before publishing")).first.wait_for()
    page.get_by_text("93% of readers never open a second email").first.wait_for()  # the evidence
    shoot(page, "review")
    page.get_by_role("button", name="Approve: continue to delivery").click()
    page.get_by_text(f"Approved {job_id} as {LOCAL_OWNER}").wait_for()
    decision = page.get_by_test_id("stTable").locator("tr").filter(has_text=job_id)
    decision.filter(has_text="ANALYTICS_LOGGED").wait_for(timeout=WAIT_MS)
    assert "approved" in decision.inner_text()

    go(page, "Analytics")
    page.get_by_role("heading", name="Runs per day by outcome").wait_for()
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    shoot(page, "analytics")
