"""Who may do what, on real DuckDB files: roles, workspaces as walls (another workspace's job is
"not found"), invitations, API keys, and the audit of every refusal. Everything here goes
through ``pipeline.api`` / ``pipeline.views`` / ``pipeline.people`` as the pages, the CLI and the
HTTP API do."""

from __future__ import annotations

import getpass
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from pipeline import api, people, views
from pipeline.access import RULES, Action, Caller, Role, permits
from pipeline.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from pipeline.options import JobOptions
from pipeline.process import forget_cached_state
from pipeline.runner import run_queued
from pipeline.store import get_store
from tests.support.login import write_login_secrets
from tests.support.teams import ADMIN, ALICE, BOB, ERIN, SAMPLES, VIC, submit
from tests.test_cli import assert_one_line_error, cli
from tests.test_pages import APP, open_page


@pytest.fixture
def teams(teams) -> dict[str, str]:
    return teams["jobs"]


def refusals() -> list[dict]:
    with get_store().session() as db:
        return db.rows("SELECT actor, action, workspace, job_id, reason FROM access_refusals ORDER BY id")


def test_the_rules_table_orders_roles_and_lets_creators_act_on_their_own_jobs():
    assert [permits(role, Action.READ) for role in Role] == [True, True, True, True]
    assert [permits(role, Action.SUBMIT) for role in Role] == [False, True, True, True]
    assert [permits(role, Action.REVIEW) for role in Role] == [False, False, True, True]
    assert [permits(role, Action.MANAGE_KEYS) for role in Role] == [False, False, False, True]
    assert not permits(Role.CREATOR, Action.EDIT_DRAFT) and permits(Role.CREATOR, Action.EDIT_DRAFT, own_job=True)
    assert not permits(Role.VIEWER, Action.EDIT_DRAFT, own_job=True)
    assert not permits(None, Action.READ)
    assert set(RULES) == set(Action)  # every action has a rule


# --- Workspaces are walls ------------------------------------------------------------------


JOB_OPERATIONS = {
    "status": lambda job, c: api.status_report(job, caller=c),
    "drafts": lambda job, c: api.drafts(job, caller=c),
    "insights": lambda job, c: api.insights(job, caller=c),
    "transcript": lambda job, c: api.transcript(job, "txt", caller=c),
    "bundle": lambda job, c: api.bundle_files_for(job, caller=c),
    "edit": lambda job, c: api.edit_draft(job, "linkedin", title="t", body="b", caller=c),
    "approve": lambda job, c: api.approve(job, caller=c),
    "reject": lambda job, c: api.reject(job, reason="no", caller=c),
    "provide": lambda job, c: api.provide_transcript(
        job, (SAMPLES / "risky-interview.srt").read_bytes(), "t.srt", caller=c
    ),
    "cancel": lambda job, c: api.cancel(job, caller=c),
    "retry": lambda job, c: api.retry(job, caller=c),
    "rerun": lambda job, c: api.rerun(job, "drafts", caller=c),
    "header": lambda job, c: views.run_header(job, caller=c),
    "tab": lambda job, c: views.run_tab(job, "Drafts", caller=c),
    "zip": lambda job, c: views.bundle_zip(job, caller=c),
    "live status": lambda job, c: views.job_status(job, caller=c),
}


@pytest.mark.parametrize("operation", list(JOB_OPERATIONS))
def test_another_workspaces_job_is_not_found_exactly_like_an_unknown_one(teams, operation):
    run = JOB_OPERATIONS[operation]
    with pytest.raises(NotFound) as unknown:
        run("job_0000000000", BOB)
    with pytest.raises(NotFound) as elsewhere:
        run(teams["north"], BOB)
    assert str(elsewhere.value) == str(unknown.value).replace("job_0000000000", teams["north"])
    [refused] = refusals()
    assert (refused["actor"], refused["workspace"], refused["job_id"]) == ("bob@example.com", "north", teams["north"])
    assert api.status_report(teams["north"], caller=ALICE)["status"] == "ANALYTICS_LOGGED"  # nothing changed


def test_lists_show_only_the_callers_workspaces(teams):
    alice_rows = views.runs(caller=ALICE)["rows"]
    bob_rows = views.runs(caller=BOB)["rows"]
    assert set(alice_rows["job_id"]) == {teams["north"], teams["flagged"], teams["waiting"]}
    assert list(bob_rows["job_id"]) == [teams["south"]]
    assert set(views.runs(caller=ADMIN)["rows"]["job_id"]) == set(teams.values())
    assert views.sidebar(caller=BOB)["workspaces"] == ["south"]
    assert views.sidebar("north", caller=BOB)["workspace"] == "south"  # a workspace that is not theirs is not chosen
    with pytest.raises(Forbidden, match="not a member of workspace 'north'"):
        views.runs("north", caller=BOB)
    assert [row["job_id"] for row in views.review(caller=ERIN)["queue"]] == [teams["flagged"]]
    assert views.review(caller=BOB)["queue"] == []
    assert list(views.analytics(caller=BOB)["usage"]["workspace"]) == ["south"]


# --- Roles ---------------------------------------------------------------------------------


def test_a_viewer_reads_but_every_change_is_refused_and_audited(teams):
    assert api.drafts(teams["north"], caller=VIC)
    with pytest.raises(Forbidden) as refused:
        api.edit_draft(teams["north"], "linkedin", title="Mine", body="A viewer's edit.", caller=VIC)
    assert str(refused.value) == (
        "vic@example.com is a viewer in north: only the editor role (or creator, on jobs they submitted) "
        "may edit a draft"
    )
    for attempt in (
        lambda: api.submit(transcript=(SAMPLES / "risky-interview.srt").read_bytes(), caller=VIC),
        lambda: api.approve(teams["flagged"], caller=VIC),
        lambda: api.rerun(teams["north"], "drafts", caller=VIC),
    ):
        with pytest.raises(Forbidden, match="vic@example.com is a viewer in north"):
            attempt()
    assert [(r["actor"], r["action"]) for r in refusals()] == [
        ("vic@example.com", "edit a draft"),
        ("vic@example.com", "submit"),
        ("vic@example.com", "approve or reject drafts"),
        ("vic@example.com", "re-run a step"),
    ]
    assert [d["version"] for d in api.drafts(teams["north"], caller=VIC)] == [1, 1, 1, 1]  # nothing was saved


def test_a_creator_edits_their_own_jobs_drafts_not_a_colleagues(teams):
    colleague = submit("creator-workflow-talk.srt", ERIN, tone="bold")
    run_queued()
    assert api.edit_draft(teams["north"], "linkedin", title="t", body="Alice's edit.", caller=ALICE) == 2
    with pytest.raises(Forbidden, match="alice@example.com is a creator in north"):
        api.edit_draft(colleague, "linkedin", title="t", body="Alice's edit.", caller=ALICE)
    with pytest.raises(Forbidden):
        api.approve(teams["flagged"], caller=ALICE)  # even on her own job: approving is an editor's call
    assert api.edit_draft(colleague, "blog", title="t", body="Erin's own.", caller=ERIN) == 2


def test_an_editor_approves_under_their_own_email(teams):
    assert api.approve(teams["flagged"], note="numbers checked", caller=ERIN) == "REVIEWED"
    run_queued()
    report = api.status_report(teams["flagged"], caller=VIC)
    assert report["status"] == "ANALYTICS_LOGGED" and report["submitted_by"] == "alice@example.com"
    with get_store().session() as db:
        review = db.row("SELECT editor, reason FROM reviews WHERE job_id = ?", [teams["flagged"]])
        moved = db.row("SELECT actor FROM status_changes WHERE job_id = ? AND move = 'approve'", [teams["flagged"]])
    assert review == {"editor": "erin@example.com", "reason": "numbers checked"}
    assert moved == {"actor": "erin@example.com"}


def test_owners_manage_members_and_keys_others_may_not(teams):
    with pytest.raises(Forbidden, match="erin@example.com is an editor in north: only the owner role may manage"):
        people.invite("north", "new@example.com", "viewer", caller=ERIN)
    with pytest.raises(Forbidden):
        people.create_key("north", caller=ERIN)
    with pytest.raises(Forbidden, match="not a member of workspace 'north'"):
        people.members("north", caller=BOB)
    with pytest.raises(Forbidden):
        api.configure_workspace("north", plan="studio", caller=ERIN)
    assert api.configure_workspace("south", plan="studio", caller=BOB)["plan"] == "studio"
    assert [m["email"] for m in people.members("south", caller=BOB)["members"]] == ["bob@example.com"]


def test_the_voice_profile_is_an_owners_to_edit():
    from pipeline.access import may_edit_voice

    assert [may_edit_voice(role) for role in Role] == [False, False, False, True]
    assert not may_edit_voice(None)


# --- Invitations -----------------------------------------------------------------------------


def test_an_invited_email_joins_at_its_first_sign_in_and_not_before(teams):
    people.invite("south", "New.Person@Example.com", "editor", caller=BOB)
    newcomer = Caller.person("new.person@example.com")
    assert people.members("south", caller=BOB)["invitations"][0]["email"] == "new.person@example.com"
    with pytest.raises(Forbidden):
        views.runs("south", caller=newcomer)  # invited, not yet signed in
    assert people.sign_in("NEW.PERSON@example.com")["joined"] == [{"workspace": "south", "role": "editor"}]
    assert list(views.runs("south", caller=newcomer)["rows"]["job_id"]) == [teams["south"]]
    assert people.members("south", caller=BOB)["invitations"] == []
    assert people.sign_in("new.person@example.com")["joined"] == []  # once


def test_someone_who_signed_in_before_is_a_member_at_once(teams):
    assert people.invite("south", ALICE.name, "viewer", caller=BOB)["status"] == "member"
    assert views.sidebar(caller=ALICE)["workspaces"] == ["north", "south"]


def test_a_workspace_keeps_its_last_owner(teams):
    with pytest.raises(Conflict, match="last owner"):
        people.remove_member("south", BOB.name, caller=BOB)
    with pytest.raises(Conflict, match="last owner"):
        people.set_role("south", BOB.name, "editor", caller=BOB)
    with pytest.raises(InvalidInput, match="roles are viewer, creator, editor, owner"):
        people.invite("south", "x@example.com", "admin", caller=BOB)
    with pytest.raises(InvalidInput, match="not an email"):
        people.invite("south", "not an email", caller=BOB)


# --- API keys --------------------------------------------------------------------------------


def test_a_key_acts_in_its_workspace_with_its_role_until_it_is_revoked(teams, data_dir):
    key = people.create_key("south", "creator", "publishing script", caller=BOB)
    as_key = Caller.api_key(key["secret"])
    job = api.submit(
        transcript=(SAMPLES / "creator-workflow-talk.srt").read_bytes(), caller=as_key, options=JobOptions(tone="bold")
    )
    assert api.status_report(job.job_id, caller=as_key)["submitted_by"] == key["key_id"]
    with pytest.raises(NotFound):
        api.status_report(teams["north"], caller=as_key)
    [listed] = [k for k in people.list_keys("south", caller=BOB) if k["key_id"] == key["key_id"]]
    assert listed["last_used_at"] is not None and "secret" not in str(listed)
    assert key["secret"].encode() not in (data_dir / "clipinsight.duckdb").read_bytes()  # only a hash is kept

    people.revoke_key("south", key["key_id"], caller=BOB)
    with pytest.raises(Unauthenticated, match="revoked"):
        api.status_report(job.job_id, caller=as_key)
    with pytest.raises(Unauthenticated, match="no valid API key"):
        api.status_report(job.job_id, caller=Caller.api_key("cik_guess"))
    with pytest.raises(NotFound):
        people.revoke_key("south", key["key_id"], caller=BOB)  # already revoked
    assert [r["actor"] for r in refusals()][-2:] == [key["key_id"], "unknown key"]


def test_an_idempotency_key_returns_the_job_it_made_even_after_it_ended(teams):
    data = (SAMPLES / "creator-workflow-talk.srt").read_bytes()
    first = api.submit(transcript=data, options=JobOptions(tone="bold"), idempotency_key="k-1", caller=BOB)
    run_queued()
    again = api.submit(transcript=data, options=JobOptions(tone="bold"), idempotency_key="k-1", caller=BOB)
    assert (again.job_id, again.duplicate) == (first.job_id, True)
    other = api.submit(transcript=data, options=JobOptions(tone="bold"), idempotency_key="k-2", caller=BOB)
    assert other.job_id != first.job_id  # the job ended, so a new key makes a new one
    with pytest.raises(Conflict, match="used for another request"):
        api.submit(transcript=data, options=JobOptions(tone="friendly"), idempotency_key="k-1", caller=BOB)


def test_processes_that_serve_people_must_name_the_caller(monkeypatch, teams):
    monkeypatch.setenv("CLIPINSIGHT_REQUIRE_CALLER", "1")
    forget_cached_state()
    with pytest.raises(RuntimeError, match="without its caller"):
        views.runs()
    assert len(views.runs(caller=ALICE)["rows"]) == 3


# --- The command line and `up` ---------------------------------------------------------------


def test_the_cli_records_who_ran_it_and_manages_members_and_keys(data_dir):
    transcript = str(SAMPLES / "creator-workflow-talk.srt")
    submitted = cli("submit", "--transcript", transcript, "--as", "ops@example.com", "--json")
    job_id = json.loads(submitted.stdout)["job_id"]
    assert api.status_report(job_id)["submitted_by"] == "ops@example.com"
    assert cli("cancel", job_id).returncode == 0
    with get_store().session() as db:
        actors = [
            row["actor"] for row in db.rows("SELECT actor FROM status_changes WHERE job_id = ? ORDER BY id", [job_id])
        ]
    assert actors == ["ops@example.com", getpass.getuser()]  # without --as: the OS user

    invited = cli("members", "invite", "--workspace", "default", "Eve@Example.com", "--role", "editor")
    assert invited.stdout.strip() == "eve@example.com invited as editor"
    created = cli("apikey", "create", "--workspace", "default", "--role", "viewer", "--name", "zapier")
    secret = created.stdout.strip()
    assert secret.startswith("cik_") and "not shown again" in created.stderr
    key_id = created.stderr.split()[0]
    assert api.status_report(job_id, caller=Caller.api_key(secret))["status"] == "FAILED"
    listed = cli("apikey", "list", "--workspace", "default").stdout
    assert key_id in listed and "live" in listed and "zapier" in listed and "never" not in listed
    assert secret not in listed
    assert cli("apikey", "revoke", "--workspace", "default", key_id).returncode == 0
    with pytest.raises(Unauthenticated):
        api.status_report(job_id, caller=Caller.api_key(secret))
    assert_one_line_error(cli("apikey", "revoke", "--workspace", "default", key_id), "no live API key")


def test_up_refuses_to_open_the_ui_to_the_network_without_a_login(data_dir):
    result = cli("up", "--address", "0.0.0.0", "--no-api", timeout=60)
    assert_one_line_error(result, "refusing to serve the UI on 0.0.0.0 with no login configured")
    assert "[auth]" in result.stderr and "listen on 127.0.0.1" in result.stderr
    assert not (data_dir / "redis").exists()  # refused before anything started


def test_with_a_login_configured_the_ui_may_listen_anywhere(data_dir):
    assert views.ui_address_problem("0.0.0.0") is not None
    assert views.ui_address_problem("127.0.0.1") is None and views.ui_address_problem("::1") is None
    write_login_secrets(data_dir.parent)
    forget_cached_state()
    assert views.login_configured() and views.ui_address_problem("0.0.0.0") is None


# --- In the UI (the pages' logic, through AppTest) --------------------------------------------


def signed_in(email: str, page: str | None = None, **query) -> AppTest:
    """The app as ``email`` sees it after signing in (login configured as in secrets.toml)."""
    user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    if page:
        return open_page(page, user=user, **query)
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = user
    return at.run()


@pytest.fixture
def login(teams, data_dir) -> dict[str, str]:
    write_login_secrets(data_dir.parent)
    forget_cached_state()
    return teams


def page_text(at: AppTest) -> str:
    """What a person reads (Markdown's escapes of text shown literally taken out)."""
    kinds = ("title", "markdown", "caption", "info", "error", "success", "code")
    shown = "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))
    return re.sub(r"\\(.)", r"\1", shown).replace("\u2060", "")


def test_without_a_sign_in_only_the_sign_in_page_shows(login):
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in to see your workspaces." in page_text(at)


def test_each_person_sees_their_workspaces_and_owners_get_members_and_keys(login):
    alice = signed_in("alice@example.com")
    assert alice.selectbox(key="workspace").options == ["north (creator)"]
    assert "Signed in as alice@example.com · creator of north" in page_text(alice)
    runs = signed_in("bob@example.com", "pages/runs.py")
    assert list(runs.dataframe[0].value["job_id"]) == [login["south"]]
    stranger = signed_in("nobody@example.com")
    assert "nobody@example.com is not a member of any workspace" in page_text(stranger)
    bob = signed_in("bob@example.com", "pages/members.py")
    assert "Members of south" in page_text(bob)
    with pytest.raises(ValueError, match="Could not find a navigation page .*members.py"):
        signed_in("alice@example.com", "pages/members.py")  # only owners have the page


def test_a_viewer_reads_a_draft_the_page_will_not_let_them_change_and_a_save_is_refused(login):
    at = signed_in("vic@example.com", "pages/run.py", job=login["north"], tab="Drafts")
    at.session_state["draft_format"] = "LinkedIn post"
    at.run()
    [area] = [a for a in at.text_area if a.key.startswith("text:run:") and ":linkedin:" in a.key]
    [save] = [b for b in at.button if b.label == "Save LinkedIn post as a new version"]
    assert area.disabled and save.disabled
    assert "only the editor role (or creator, on jobs they submitted) may change it" in page_text(at)
    with pytest.raises(Forbidden, match="vic@example.com is a viewer in north"):  # whatever the page shows
        api.edit_draft(login["north"], "linkedin", title="t", body="A viewer tries an edit.", caller=VIC)
    assert [d["version"] for d in api.drafts(login["north"])] == [1, 1, 1, 1]
    assert refusals()[-1]["action"] == "edit a draft"


def test_another_workspaces_run_is_not_found_on_the_page(login):
    at = signed_in("bob@example.com", "pages/run.py", job=login["north"])
    assert f"no job with id {login['north']}" in page_text(at)


def test_an_owner_invites_and_makes_a_key_whose_secret_shows_once(login):
    at = signed_in("bob@example.com", "pages/members.py")
    at.text_input(key="invite_email").input("Carol@Example.com")
    at.selectbox(key="invite_role").set_value("viewer")
    at.button[[b.label for b in at.button].index("Invite")].click().run()
    assert "carol@example.com: invited as viewer." in page_text(at)
    assert people.sign_in("carol@example.com")["joined"] == [{"workspace": "south", "role": "viewer"}]

    keys = signed_in("bob@example.com", "pages/api_keys.py")
    keys.text_input(key="key_name").input("zapier")
    keys.button[[b.label for b in keys.button].index("Create a key")].click().run()
    [secret] = [str(c.value) for c in keys.code]
    assert secret.startswith("cik_") and "it is not shown again" in page_text(keys)
    assert api.status_report(login["south"], caller=Caller.api_key(secret))["status"] == "ANALYTICS_LOGGED"
    keys.run()
    assert not keys.code  # shown once
    assert list(keys.dataframe[0].value["name"]) == ["zapier", "creator"]  # newest first
    keys.selectbox(key="revoke_key").set_value("key_" + secret.split("_")[1])  # cik_<key id>_<secret>
    keys.button(key="revoke").click().run()
    assert "it is refused from now on" in page_text(keys)
    with pytest.raises(Unauthenticated):
        api.status_report(login["south"], caller=Caller.api_key(secret))


def test_a_ui_served_on_another_interface_without_a_login_refuses_to_show_anything(data_dir):
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
    finally:
        config.set_option("server.address", None)
    assert "refusing to serve the UI on 0.0.0.0 with no login configured" in page_text(at)
    assert not at.button and not at.dataframe  # nothing of any workspace
