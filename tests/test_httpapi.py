"""The HTTP API over real DuckDB files and a real Redis: what a program with a workspace key can
and cannot do, route by route. Requests go through the ASGI app (FastAPI's TestClient) unless a
test needs real concurrency or a stream, where uvicorn serves the app on a free port."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi.testclient import TestClient

from pipeline import api, people
from pipeline.access import Caller
from pipeline.httpapi import create_app
from pipeline.process import forget_cached_state
from pipeline.ratelimit import api_key_limiter
from pipeline.redis_server import embedded
from pipeline.runner import run_attempt, run_queued
from pipeline.settings import get_settings
from pipeline.store import get_store
from pipeline.store import steps as step_rows
from tests.support.browser import free_port
from tests.support.teams import ADMIN, SAMPLES

TALK = SAMPLES / "creator-workflow-talk.srt"


@pytest.fixture
def client(teams) -> TestClient:
    return TestClient(create_app())


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def job_count() -> int:
    with get_store().session() as db:
        return db.scalar("SELECT count(*) FROM jobs")


def post_transcript(client: TestClient, secret: str, **headers: str):
    with open(TALK, "rb") as handle:
        return client.post("/api/jobs", headers=bearer(secret, **headers), files={"transcript": ("talk.srt", handle)})


# --- Every route, with a key of another workspace ------------------------------------------------

ROUTES = [
    ("GET", "/api/jobs/{job}", {}),
    ("GET", "/api/jobs/{job}/drafts", {}),
    ("GET", "/api/jobs/{job}/insights", {}),
    ("GET", "/api/jobs/{job}/transcript?format=vtt", {}),
    ("GET", "/api/jobs/{job}/bundle", {}),
    ("GET", "/api/jobs/{job}/events", {}),
    ("PUT", "/api/jobs/{job}/drafts/linkedin", {"json": {"title": "Mine", "body": "Overwritten?"}}),
    ("POST", "/api/jobs/{job}/review", {"json": {"decision": "reject", "reason": "not yours"}}),
    ("POST", "/api/jobs/{job}/transcript", {"files": {"transcript": ("t.srt", TALK.read_bytes())}}),
    ("POST", "/api/jobs/{job}/cancel", {}),
    ("POST", "/api/jobs/{job}/retry", {}),
    ("POST", "/api/jobs/{job}/rerun", {"json": {"step": "drafts"}}),
]


@pytest.mark.parametrize("method, path, body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("target", ["north", "flagged", "waiting"])
def test_a_key_of_another_workspace_never_reads_or_changes_a_job(client, teams, method, path, body, target):
    """South's owner-grade key against each of north's jobs (finished, flagged, waiting for a
    transcript: every route has a job it would act on): 404, the same answer as for no job."""
    job_id = teams["jobs"][target]
    before = api.status_report(job_id), api.drafts(job_id)
    south = bearer(teams["keys"]["south_creator"])
    answer = client.request(method, path.format(job=job_id), headers=south, **body)
    unknown = client.request(method, path.format(job="job_0000000000"), headers=south, **body)
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"error": {"code": "NOT_FOUND", "message": f"no job with id {job_id}"}}
    assert unknown.json()["error"]["message"] == "no job with id job_0000000000"
    assert (api.status_report(job_id), api.drafts(job_id)) == before


def test_a_key_lists_and_finds_only_its_workspaces_jobs(client, teams):
    north = client.get("/api/jobs", headers=bearer(teams["keys"]["north_viewer"])).json()
    south = client.get("/api/jobs", headers=bearer(teams["keys"]["south_creator"])).json()
    jobs = teams["jobs"]
    assert {row["job_id"] for row in north["jobs"]} == {jobs["north"], jobs["flagged"], jobs["waiting"]}
    assert [row["job_id"] for row in south["jobs"]] == [jobs["south"]] and south["total"] == 1
    found = client.get("/api/jobs?q=waiting", headers=bearer(teams["keys"]["south_creator"])).json()
    assert found["jobs"] == []
    searched = client.get(
        "/api/jobs",
        params={"status": "REQUIRES_MANUAL_REVIEW", "page_size": 1},
        headers=bearer(teams["keys"]["north_viewer"]),
    ).json()
    assert [row["job_id"] for row in searched["jobs"]] == [jobs["flagged"]] and searched["counts"]["ANALYTICS_LOGGED"]


# --- Who may ----------------------------------------------------------------------------------


def test_no_key_an_unknown_key_and_a_revoked_key_are_401(client, teams):
    job_id = teams["jobs"]["north"]
    for headers in ({}, bearer("cik_nope_nope"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        answer = client.get(f"/api/jobs/{job_id}", headers=headers)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    secret = teams["keys"]["north_viewer"]
    assert client.get(f"/api/jobs/{job_id}", headers=bearer(secret)).status_code == 200
    key_id = "key_" + secret.split("_")[1]
    people.revoke_key("north", key_id, caller=ADMIN)
    revoked = client.get(f"/api/jobs/{job_id}", headers=bearer(secret))
    assert revoked.status_code == 401 and revoked.json()["error"]["message"] == "this API key was revoked"


def test_a_role_that_may_not_gets_403_with_the_reason(client, teams):
    viewer, creator = bearer(teams["keys"]["north_viewer"]), bearer(teams["keys"]["north_creator"])
    flagged = teams["jobs"]["flagged"]
    denied = client.post(f"/api/jobs/{flagged}/review", headers=viewer, json={"decision": "approve"})
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "code": "FORBIDDEN",
        "message": f"{key_id(teams, 'north_viewer')} is a viewer in north: only the editor role may approve or "
        "reject drafts",
    }
    assert post_transcript(client, teams["keys"]["north_viewer"]).status_code == 403
    # a creator key acts on the jobs it submitted, not on alice's
    alices = teams["jobs"]["north"]
    assert client.post(f"/api/jobs/{alices}/rerun", headers=creator, json={"step": "qa_review"}).status_code == 403
    mine = post_transcript(client, teams["keys"]["north_creator"], **{"Idempotency-Key": "mine"}).json()["job_id"]
    assert client.post(f"/api/jobs/{mine}/cancel", headers=creator).json() == {"job_id": mine, "status": "FAILED"}
    approved = client.post(
        f"/api/jobs/{flagged}/review", headers=bearer(teams["keys"]["north_editor"]), json={"decision": "approve"}
    )
    assert approved.json() == {"job_id": flagged, "status": "REVIEWED"}
    with get_store().session() as db:
        assert db.scalar("SELECT editor FROM reviews WHERE job_id = ?", [flagged]) == key_id(teams, "north_editor")


def key_id(teams: dict, name: str) -> str:
    return "key_" + teams["keys"][name].split("_")[1]


# --- Submitting, reading, editing ---------------------------------------------------------------


def test_submit_a_transcript_then_read_everything_it_made(client, teams):
    secret = teams["keys"]["north_creator"]
    created = post_transcript(client, secret)
    assert created.status_code == 201
    job_id = created.json()["job_id"]
    assert created.headers["Location"] == f"/api/jobs/{job_id}"
    run_queued()
    report = client.get(f"/api/jobs/{job_id}", headers=bearer(secret)).json()
    assert report["status"] == "ANALYTICS_LOGGED" and report["progress"] == 1.0
    assert report["submitted_by"] == key_id(teams, "north_creator") and report["workspace"] == "north"
    assert {s["step"] for s in report["runs"][0]["steps"]} >= {"validate", "insights", "qa_review", "deliver"}
    insights = client.get(f"/api/jobs/{job_id}/insights", headers=bearer(secret)).json()
    assert insights["quotes"] and insights["themes"]
    srt = client.get(f"/api/jobs/{job_id}/transcript", headers=bearer(secret))
    vtt = client.get(f"/api/jobs/{job_id}/transcript?format=vtt", headers=bearer(secret))
    assert srt.text.startswith("1\n00:00:00,400 --> 00:00:03,025\nHi everyone") and vtt.text.startswith("WEBVTT")
    doc = client.get(f"/api/jobs/{job_id}/transcript?format=doc", headers=bearer(secret))
    assert doc.status_code == 422 and doc.json()["error"]["field"] == "format"
    bundle = client.get(f"/api/jobs/{job_id}/bundle", headers=bearer(secret))
    assert bundle.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert "transcript.srt" in names and any(name.startswith("drafts/") for name in names)


def test_a_draft_saved_over_a_newer_version_is_409_with_the_current_text(client, teams):
    secret, job_id = teams["keys"]["north_editor"], teams["jobs"]["north"]
    drafts = client.get(f"/api/jobs/{job_id}/drafts", headers=bearer(secret)).json()["drafts"]
    [linkedin] = [d for d in drafts if d["format"] == "linkedin"]
    assert linkedin["version"] == 1
    path = f"/api/jobs/{job_id}/drafts/linkedin"
    saved = client.put(path, headers=bearer(secret, **{"If-Match": '"1"'}), json={"body": "First edit."})
    assert saved.json() == {"format": "linkedin", "version": 2} and saved.headers["ETag"] == '"2"'
    stale = client.put(path, headers=bearer(secret, **{"If-Match": "1"}), json={"body": "Late edit."})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "CONFLICT" and "version 2" in error["message"]
    assert (error["current"]["version"], error["current"]["body"]) == (2, "First edit.")
    assert [d["body"] for d in api.drafts(job_id) if d["format"] == "linkedin"] == ["First edit."]


def test_errors_name_the_field_that_cannot_be_used(client, teams):
    secret = teams["keys"]["north_creator"]
    cases = [
        ({"data": {"transcript_text": "too short", "tone": "loud"}}, "tone"),
        ({"files": {"transcript": ("clip.srt", bytes(range(256)) * 10)}}, "transcript"),
        ({"data": {"url": "ftp://example.com/talk.mp4"}}, "url"),
        ({"data": {"url": "http://127.0.0.1/x.mp4"}}, "url"),
        ({"data": {"transcript_text": "x", "formats": "blog,podcast"}}, "formats"),
        ({"data": {}}, "url"),
    ]
    for request, field in cases:
        answer = client.post("/api/jobs", headers=bearer(secret), **request)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "INVALID_INPUT" and answer.json()["error"].get("field") == field, (
            answer.text
        )
    paged = client.get("/api/jobs?page_size=0", headers=bearer(secret)).json()["error"]
    assert paged["field"] == "page_size" and paged["message"].startswith("page_size:")
    path = f"/api/jobs/{teams['jobs']['north']}/drafts/linkedin"
    edit = client.put(path, headers=bearer(teams["keys"]["north_editor"]), json={"title": "x"})
    assert edit.json()["error"]["field"] == "body"
    assert job_count() == 4


# --- Idempotency-Key under concurrency, events, rate limit: a real server -------------------------


@contextmanager
def served() -> Iterator[str]:
    """The app on uvicorn on a free port, in this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def http(method: str, url: str, headers: dict, body: bytes | None = None, content_type: str | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def multipart_transcript() -> tuple[bytes, str]:
    boundary = "clipinsight-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="transcript"; filename="talk.srt"\r\n'
            "Content-Type: application/x-subrip\r\n\r\n"
        ).encode()
        + TALK.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_twenty_concurrent_repeats_of_an_idempotency_key_make_one_job(teams):
    body, content_type = multipart_transcript()
    headers = bearer(teams["keys"]["north_creator"], **{"Idempotency-Key": "retry-storm-1"})
    before = job_count()
    with served() as base, ThreadPoolExecutor(20) as pool:
        barrier = threading.Barrier(20)

        def once(_):
            barrier.wait()
            return http("POST", f"{base}/api/jobs", headers, body, content_type)

        answers = list(pool.map(once, range(20)))
    statuses = sorted(status for status, _, _ in answers)
    job_ids = {json.loads(payload)["job_id"] for _, _, payload in answers}
    assert len(job_ids) == 1 and job_count() == before + 1
    assert statuses == [200] * 19 + [201]  # one made it, nineteen were told it was already made


def next_event(stream) -> tuple[str, dict]:
    """The next server-sent event (kind, data), skipping comment lines."""
    kind, data = None, None
    while True:
        line = stream.readline().decode()
        if line.startswith("event: "):
            kind = line[7:].strip()
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "\n" and kind:
            return kind, data
        elif line == "":
            raise AssertionError("the stream closed before the next event")


def one_pass() -> bool:
    """Run the attempts queued now, as a worker would pick them up; False when none is queued."""
    with get_store().session() as db:
        queued = [(a["id"], a["step"]) for a in step_rows.pending_attempts(db) if a["status"] == "queued"]
    for attempt_id, step in queued:
        run_attempt(attempt_id, step)
    return bool(queued)


def test_events_stream_status_and_progress_until_the_job_ends(teams):
    secret = teams["keys"]["north_creator"]
    job_id = api.submit(transcript=TALK.read_bytes(), transcript_name="talk.srt", caller=Caller.api_key(secret)).job_id
    with served() as base:
        request = urllib.request.Request(f"{base}/api/jobs/{job_id}/events", headers=bearer(secret))
        with urllib.request.urlopen(request, timeout=60) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            events = [next_event(stream)]
            while one_pass():  # the job moves on while the stream is open; each pass moves its status
                seen = events[-1][1]["status"]
                while events[-1][0] == "status" and events[-1][1]["status"] == seen:
                    events.append(next_event(stream))
            while events[-1][0] != "end":
                events.append(next_event(stream))
            assert stream.read() == b""  # the stream closed after the end
    statuses = [data["status"] for kind, data in events if kind == "status"]
    assert statuses[0] == "RECEIVED" and statuses[-1] == "ANALYTICS_LOGGED"
    assert {"VALIDATED", "TRANSCRIBED", "INSIGHTS", "REVIEWED"} <= set(statuses)
    progress = [data["progress"] for kind, data in events if kind == "status"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert events[-1] == ("end", {"job_id": job_id, "status": "ANALYTICS_LOGGED"})


def test_a_key_over_its_rate_gets_429_with_retry_after_shared_by_every_api_process(teams, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_API_RATE_LIMIT", "3")
    forget_cached_state()
    api_key_limiter.cache_clear()
    embedded(get_settings()).start()
    try:
        secret, job_id = teams["keys"]["north_viewer"], teams["jobs"]["north"]
        first = TestClient(create_app())
        assert [first.get(f"/api/jobs/{job_id}", headers=bearer(secret)).status_code for _ in range(2)] == [200, 200]
        api_key_limiter.cache_clear()  # another API process: nothing of the first one's counting is in it
        second = TestClient(create_app())
        assert second.get(f"/api/jobs/{job_id}", headers=bearer(secret)).status_code == 200
        limited = second.get(f"/api/jobs/{job_id}", headers=bearer(secret))
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        other = bearer(teams["keys"]["north_editor"])
        assert second.get(f"/api/jobs/{job_id}", headers=other).status_code == 200  # per key
    finally:
        embedded(get_settings()).stop()
        api_key_limiter.cache_clear()


def test_a_video_link_and_a_media_upload_make_jobs_too(client, teams, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")  # no DNS here: a link to this machine
    forget_cached_state()
    creator = bearer(teams["keys"]["north_creator"])
    linked = client.post("/api/jobs", headers=creator, data={"url": "http://127.0.0.1:9/talk.mp4", "tone": "bold"})
    assert linked.status_code == 201, linked.text
    with open(SAMPLES / "speech-sample.mp4", "rb") as handle:
        uploaded = client.post("/api/jobs", headers=creator, files={"media": ("talk.mp4", handle, "video/mp4")})
    assert uploaded.status_code == 201, uploaded.text
    link_report = api.status_report(linked.json()["job_id"])
    upload_report = api.status_report(uploaded.json()["job_id"])
    assert link_report["source"] == "http://127.0.0.1:9/talk.mp4"
    assert upload_report["source"].startswith("media/uploads/") and upload_report["source"].endswith("-talk.mp4")
    assert upload_report["source"].count("-talk.mp4") == 1 and upload_report["source"].count("-") == 1
    with open(SAMPLES / "speech-sample.mp4", "rb") as handle:
        again = client.post("/api/jobs", headers=creator, files={"media": ("same.mp4", handle, "video/mp4")})
    assert (again.status_code, again.json()["job_id"]) == (200, uploaded.json()["job_id"])  # same content, same job
