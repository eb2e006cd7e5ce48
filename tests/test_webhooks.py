"""Webhooks: refused when they lead to a private address (when set and when sent, redirects
included), signed with the workspace's own secret, retried by the one policy — each against a
real local receiver."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from pipeline import api, retrying, signing, webhooks
from pipeline.errors import InvalidInput
from pipeline.settings import get_settings
from pipeline.store import get_store
from pipeline.store import usage as usage_rows
from pipeline.urlguard import ConnectionGuard
from tests.support.http import Recorder

README = Path(__file__).resolve().parents[1] / "README.md"
FAST = retrying.CallPolicy(max_tries=3, budget_s=30, initial_s=0.05)

#: Every spelling of an internal target the guard must refuse.
PRIVATE_TARGETS = [
    "http://127.0.0.1:6379/",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1/hook",  # octal
    "http://0x7f000001/hook",  # hex
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, mapped and in hex
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
]


def receiver_verify():
    """The ``verify`` function exactly as README shows it to receivers."""
    block = re.search(r"```python\n((?:(?!```).)*?def verify\(.*?)```", README.read_text(), re.DOTALL)
    assert block, "README shows no receiver verification"
    scope: dict = {}
    exec(block.group(1), scope)  # noqa: S102 (the README's own code, run as a reader would)
    return scope["verify"]


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_a_webhook_to_a_private_address_is_refused_when_set(url):
    with pytest.raises(InvalidInput, match="webhook refused: .*(private or reserved|unusual spelling)"):
        api.configure_workspace("hooked", webhook_url=url)
    with get_store().session() as db:
        assert db.scalar("SELECT count(*) FROM workspaces WHERE webhook_url IS NOT NULL") == 0


def test_a_private_target_gets_no_request_at_send_time_and_nothing_about_it_is_stored():
    with Recorder() as hook:
        result = webhooks.send_event(hook.url, "run_1", {"type": "job.completed"}, "whsec_x", policy=FAST)
    assert hook.requests == []
    assert (result.status, result.attempts, result.error, result.response_code) == (
        "refused",
        0,
        webhooks.REFUSED,
        None,
    )


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/internal", "http://169.254.169.254/latest/meta-data/"])
def test_redirects_are_not_followed_not_even_to_a_private_address(target):
    internal, hook = Recorder(), Recorder()
    hook.replies = [(302, {"Location": target.format(port=internal.server.server_address[1])})]
    with internal, hook:
        public = ConnectionGuard(exempt=frozenset({("127.0.0.1", hook.server.server_address[1])}))
        result = webhooks.send_event(hook.url, "run_1", {}, "whsec_x", guard=public, policy=FAST)
    assert len(hook.requests) == 1 and internal.requests == []
    assert result.status == "failed" and "redirects are not followed" in result.error


def test_transient_answers_are_retried_by_the_one_policy_and_final_ones_are_not():
    with Recorder(replies=[503, (429, {"Retry-After": "0.1"}), 200]) as hook:
        sent = webhooks.send_event(
            hook.url, "run_1", {}, "whsec_x", guard=ConnectionGuard(allow_private=True), policy=FAST
        )
    assert (sent.status, sent.attempts, sent.response_code) == ("sent", 3, 200)
    with Recorder(replies=[404]) as hook:
        failed = webhooks.send_event(
            hook.url, "run_2", {}, "whsec_x", guard=ConnectionGuard(allow_private=True), policy=FAST
        )
    assert (failed.status, failed.attempts, failed.response_code, len(hook.requests)) == ("failed", 1, 404, 1)


def test_an_event_is_never_sent_unsigned():
    with Recorder() as hook:
        result = webhooks.send_event(hook.url, "run_1", {}, None, guard=ConnectionGuard(allow_private=True))
    assert hook.requests == [] and result.status == "failed" and "--rotate-webhook-secret" in result.error


def test_the_secret_is_shown_once_rotates_and_is_never_stored(monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")
    from pipeline.process import forget_cached_state

    forget_cached_state()
    first = api.configure_workspace("hooked", webhook_url="http://127.0.0.1:9/hook")["webhook_secret"]
    again = api.configure_workspace("hooked", webhook_url="http://127.0.0.1:9/other")
    assert first.startswith("whsec_") and "webhook_secret" not in again  # shown once
    rotated = api.rotate_webhook_secret("hooked")
    assert rotated != first
    with get_store().session() as db:
        row = db.row("SELECT * FROM workspaces WHERE name = 'hooked'")
        workspace = usage_rows.get_workspace(db, "hooked")
    assert not {first, rotated} & {str(value) for value in row.values()}  # only a key id is kept
    assert signing.workspace_secret(get_settings(), "hooked", workspace.webhook_key_id) == rotated
    key_file = get_settings().data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_real_delivery_verifies_with_the_readme_code(monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_ALLOW_PRIVATE_URLS", "1")
    from pipeline.process import forget_cached_state
    from pipeline.runner import run_queued
    from tests.conftest import SAMPLES

    forget_cached_state()
    with Recorder() as hook:
        secret = api.configure_workspace("hooked", webhook_url=hook.url)["webhook_secret"]
        talk = SAMPLES / "creator-workflow-talk.srt"
        api.submit(transcript=talk.read_bytes(), transcript_name=talk.name, workspace="hooked")
        run_queued()  # the real runner and deliver step, in this process
    [delivery] = hook.requests
    verify = receiver_verify()
    signature = {k.lower(): v for k, v in delivery["headers"].items()}["x-clipinsight-signature"]
    assert verify(delivery["body"], signature, secret)
    assert not verify(delivery["body"] + b" ", signature, secret)  # a changed body fails
    assert not verify(delivery["body"], signature, api.rotate_webhook_secret("hooked"))  # so does an old secret
