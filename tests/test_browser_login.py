"""People signing in, in real Chromium, against ``python -m pipeline up`` with a real OpenID
Connect provider running locally (``oidc-provider-mock``: discovery, authorization code flow,
signed ID tokens; its page signs in whatever email is typed).

north: alice creator, erin editor, vic viewer. south: bob owner. Each signs in in a browser of
their own and sees only their workspace's jobs; the creator submits, follows and edits her job;
the editor approves a flagged draft under her email; the viewer reads drafts she may not change; the owner
makes an API key, a script submits with it and follows the job's events to the end, and the key
revoked in the UI is refused at its next request.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipeline import api, people
from pipeline.access import Caller
from pipeline.store import get_store
from tests.support.browser import CHROMIUM_ARGS, Product, chromium_path
from tests.support.login import oidc_provider, write_login_secrets
from tests.support.teams import ADMIN, SAMPLES
from tests.test_browser import WAIT_MS, go, shoot, submitted_job

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="needs Chromium: apt-get install chromium (make system-deps)"),
]

MEMBERS = {
    "alice@example.com": ("north", "creator"),
    "erin@example.com": ("north", "editor"),
    "vic@example.com": ("north", "viewer"),
    "bob@example.com": ("south", "owner"),
}


@pytest.fixture
def product(data_dir):
    with oidc_provider() as issuer:
        product = Product(data_dir, workers=2)
        secrets = write_login_secrets(data_dir.parent / "login", issuer=issuer, ui_url=product.url)
        product.env["CLIPINSIGHT_SECRETS_FILE"] = str(secrets)
        for workspace in ("north", "south"):
            api.configure_workspace(workspace, caller=ADMIN)
        for email, (workspace, role) in MEMBERS.items():
            people.invite(workspace, email, role, caller=ADMIN)  # they join at their first sign-in
        product.start()
        yield product
        left = product.stop()
    assert left == [], f"still running after SIGTERM: {left}\n{product.log()[-2000:]}"


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def as_shown(text: str) -> re.Pattern:
    """Text as the page shows text from outside: an email reads the same, with an invisible word
    joiner before its ``@`` so that the renderer makes no link of it."""
    return re.compile(re.escape(text).replace("@", "\u2060?@"))


def signed_in(browser: Browser, product: Product, email: str) -> Page:
    """A browser of this person's own (its own cookies) that signed in through the provider."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.goto(product.url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(email)  # the provider's page
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(as_shown(f"Signed in as {email}")).wait_for()
    return page


def search_runs(page: Page, job_id: str) -> None:
    go(page, "Runs")
    search = page.get_by_role("textbox", name="Search")
    search.fill(job_id)
    search.press("Enter")


def finds_on_runs(page: Page, job_id: str) -> None:
    """The person's Runs page lists the job, searched by its id (call it after a miss, or on a
    Runs page that lists more than one job: the counts above the table then change to one job)."""
    search_runs(page, job_id)
    page.get_by_text(re.compile(r"^\S [A-Z][a-z ]+ 1$")).first.wait_for()  # the counts: one job


def misses_on_runs(page: Page, job_id: str) -> None:
    """The person's Runs page does not list the job."""
    search_runs(page, job_id)
    page.get_by_text(re.compile(r"^No jobs yet")).wait_for()


def save_linkedin(page: Page, product: Product, job_id: str, text: str) -> None:
    page.goto(f"{product.url}/run?job={job_id}&tab=Drafts")
    page.get_by_role("tab", name="LinkedIn post").click()
    page.get_by_label("LinkedIn post text").fill(text)
    page.get_by_role("button", name="Save LinkedIn post as a new version").click()


def request(method: str, url: str, secret: str, body: bytes | None = None, content_type: str | None = None):
    headers = {"Authorization": f"Bearer {secret}"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method), timeout=120) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_people_see_and_do_what_their_role_in_their_workspace_allows(product, browser):
    north_flagged = api.submit(
        transcript=(SAMPLES / "risky-interview.srt").read_bytes(),
        transcript_name="risky-interview.srt",
        caller=Caller.local("alice@example.com"),  # as the CLI would, before she ever signed in
        workspace="north",
    ).job_id
    south_job = api.submit(
        transcript=(SAMPLES / "creator-workflow-talk.srt").read_bytes(),
        transcript_name="creator-workflow-talk.srt",
        caller=Caller.local("bob@example.com"),
        workspace="south",
    ).job_id

    # The creator signs in, submits, follows and edits her own job; south's job is not hers to see.
    alice = signed_in(browser, product, "alice@example.com")
    expect(alice.get_by_text("creator of north")).to_be_visible()
    alice.get_by_role("button", name="Run the sample").click()
    mine = submitted_job(alice)
    assert api.wait_for(mine, timeout=WAIT_MS / 1000)["status"] == "ANALYTICS_LOGGED"
    finds_on_runs(alice, mine)
    misses_on_runs(alice, south_job)
    finds_on_runs(alice, north_flagged)
    alice.goto(f"{product.url}/run?job={south_job}")
    alice.get_by_text(f"no job with id {south_job}").wait_for()
    save_linkedin(alice, product, mine, "Alice's own edit of her LinkedIn post.")
    alice.get_by_text(as_shown("Saved the LinkedIn post as version 2 (by alice@example.com).")).wait_for()
    shoot(alice, "login-creator")

    # The owner of south sees south's job only, and has the owner's pages.
    bob = signed_in(browser, product, "bob@example.com")
    misses_on_runs(bob, mine)
    finds_on_runs(bob, south_job)

    # The editor approves the flagged draft; the decision and the audit row carry her email.
    assert api.wait_for(north_flagged, timeout=WAIT_MS / 1000)["status"] == "REQUIRES_MANUAL_REVIEW"
    erin = signed_in(browser, product, "erin@example.com")
    go(erin, "Review")
    erin.get_by_role("button", name="Approve: continue to delivery").click()
    erin.get_by_text(as_shown(f"Approved {north_flagged} as erin@example.com")).wait_for()
    assert api.wait_for(north_flagged, timeout=WAIT_MS / 1000)["status"] == "ANALYTICS_LOGGED"
    approval = get_store().row(
        "SELECT actor FROM status_changes WHERE job_id = ? AND move = 'approve'", [north_flagged]
    )
    decision = get_store().row("SELECT editor FROM reviews WHERE job_id = ?", [north_flagged])
    assert approval == {"actor": "erin@example.com"} and decision == {"editor": "erin@example.com"}
    shoot(erin, "login-editor-approved")

    # The viewer reads the drafts and may not change them: the page says so, and an edit sent by a
    # viewer's key is refused with the reason; nothing is saved.
    vic = signed_in(browser, product, "vic@example.com")
    vic.goto(f"{product.url}/run?job={mine}&tab=Drafts")
    vic.get_by_role("tab", name="LinkedIn post").click()
    panel = vic.get_by_role("tabpanel", name="LinkedIn post")
    panel.get_by_text("only the editor role (or creator, on jobs they submitted) may change it").wait_for()
    expect(panel.get_by_label("LinkedIn post text")).to_be_disabled()
    expect(panel.get_by_role("button", name="Save LinkedIn post as a new version")).to_be_disabled()
    expect(panel.get_by_role("button", name=re.compile("Copy the whole draft"))).to_be_enabled()  # reading is hers
    shoot(vic, "login-viewer-read-only")
    viewer_key = people.create_key("north", "viewer", "a viewer's script", caller=ADMIN)["secret"]
    edit = json.dumps({"title": "Mine", "body": "A viewer's edit."}).encode()
    status, answer = request(
        "PUT", f"{product.api_url}/api/jobs/{mine}/drafts/linkedin", viewer_key, edit, "application/json"
    )
    assert status == 403 and "is a viewer in north" in json.loads(answer)["error"]["message"]
    assert [d["version"] for d in api.drafts(mine) if d["format"] == "linkedin"] == [2]

    # The owner makes a key; a script submits with it and follows the job to its end.
    go(bob, "API keys")
    bob.get_by_label("What is it for?").fill("publishing script")
    bob.get_by_role("button", name="Create a key").click()
    secret = bob.get_by_test_id("stCode").inner_text().strip()
    assert secret.startswith("cik_")
    boundary = "clipinsight-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="transcript"; filename="talk.srt"\r\n\r\n'.encode()
        + (SAMPLES / "creator-workflow-talk.srt").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = request(
        "POST", f"{product.api_url}/api/jobs", secret, body, f"multipart/form-data; boundary={boundary}"
    )
    assert status == 201, answer
    scripted = json.loads(answer)["job_id"]
    status, stream = request("GET", f"{product.api_url}/api/jobs/{scripted}/events", secret)
    events = [json.loads(line[6:]) for line in stream.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == {"job_id": scripted, "status": "ANALYTICS_LOGGED"}
    assert api.status_report(scripted)["workspace"] == "south"

    # Revoked in the UI, the key is refused at its very next request.
    bob.reload()
    bob.get_by_role("button", name="Revoke").wait_for()
    bob.get_by_role("button", name="Revoke").click()
    bob.get_by_text("it is refused from now on").wait_for()
    status, answer = request("GET", f"{product.api_url}/api/jobs/{scripted}", secret)
    assert status == 401 and json.loads(answer)["error"]["message"] == "this API key was revoked"
    shoot(bob, "login-owner-keys")
