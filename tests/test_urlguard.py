"""URL safety: hostile links are refused before any request leaves, however they are spelled."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from pipeline import defaults, sources
from pipeline.download import Downloader
from pipeline.errors import ErrorCode, InvalidInput, StepError
from pipeline.urlguard import ConnectionGuard, NetworkUnreachable, UnsafeAddress, UnsafeURL, check_url, is_public
from tests.support.media_server import MediaServer

#: Links that must never be fetched. ``{port}`` is a local server that counts requests, so a
#: refusal that still sent something would show up as a hit.
HOSTILE = [
    "http://127.0.0.1:{port}/sample.mp4",
    "http://localhost:{port}/sample.mp4",
    "http://LOCALHOST.:{port}/sample.mp4",
    "http://127.1:{port}/sample.mp4",
    "http://2130706433:{port}/sample.mp4",
    "http://0177.0.0.1:{port}/sample.mp4",
    "http://0x7f.0.0.1:{port}/sample.mp4",
    "http://0x7f000001:{port}/sample.mp4",
    "http://0x7f.1:{port}/sample.mp4",
    "http://017700000001:{port}/sample.mp4",
    "http://0x7f.0x0.0x0.0x1:{port}/sample.mp4",
    "http://[::1]:{port}/sample.mp4",
    "http://[::ffff:127.0.0.1]:{port}/sample.mp4",
    "http://[::ffff:7f00:1]:{port}/sample.mp4",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/sample.mp4",
    "http://[::127.0.0.1]:{port}/sample.mp4",
    "http://[2002:7f00:1::]:{port}/sample.mp4",
    "http://[64:ff9b::7f00:1]:{port}/sample.mp4",
    "http://①②⑦.0.0.1:{port}/sample.mp4",
    "http://0.0.0.0:{port}/sample.mp4",
    "http://0:{port}/sample.mp4",
    "http://[::]:{port}/sample.mp4",
    "http://user:secret@127.0.0.1:{port}/sample.mp4",
    "http://example.com@127.0.0.1:{port}/sample.mp4",
    "http://127.0.0.1:{port}\\@example.com/sample.mp4",
    "http://%31%32%37.0.0.1:{port}/sample.mp4",
    "gopher://127.0.0.1:{port}/_GET%20/",
    "ftp://127.0.0.1:{port}/sample.mp4",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:video/mp4;base64,AAAA",
    "http:///sample.mp4",
    "http://10.0.0.1/video.mp4",
    "http://172.16.5.4/video.mp4",
    "http://192.168.1.10/video.mp4",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://100.64.0.1/video.mp4",
    "http://198.18.0.1/video.mp4",
    "http://224.0.0.1/video.mp4",
    "http://240.0.0.1/video.mp4",
    "http://255.255.255.255/video.mp4",
    "http://[fe80::1]/video.mp4",
    "http://[fc00::1]/video.mp4",
    "http://[fd12:3456::1]/video.mp4",
    "http://[ff02::1]/video.mp4",
    "http://[2001:db8::1]/video.mp4",
    "http://0x08.0x08.0x08.0x08/video.mp4",
]


@pytest.fixture(scope="module")
def counting_server():
    with MediaServer() as server:
        yield server


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_links_are_refused_before_any_request(template, counting_server, settings):
    url = template.format(port=counting_server.port)
    before = counting_server.hits
    with pytest.raises(InvalidInput) as refused:
        sources.classify(url, settings)
    assert str(refused.value)  # a reason a person can read
    with pytest.raises(InvalidInput):
        check_url(url)
    assert counting_server.hits == before
    assert counting_server.connections == 0


def test_the_corpus_is_large_enough():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/a.mp4", "only http and https"),
        ("http://user:pw@example.com/a.mp4", "user name or password"),
        ("http://0x7f.1/a.mp4", "unusual spelling"),
        ("http://169.254.169.254/", "private or reserved"),
        ("http://localhost/", "private or reserved"),
        ("http:///a.mp4", "no host"),
    ],
)
def test_refusals_say_why(url, words):
    with pytest.raises(UnsafeURL, match=words):
        check_url(url)


def test_allow_private_lifts_only_the_address_rule():
    assert check_url("http://127.0.0.1:8000/a.mp4", allow_private=True) == "http://127.0.0.1:8000/a.mp4"
    for url in ("ftp://127.0.0.1/a.mp4", "http://u:p@127.0.0.1/a.mp4", "http://2130706433/a.mp4"):
        with pytest.raises(UnsafeURL):
            check_url(url, allow_private=True)


def test_public_addresses_pass():
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "142.250.74.46"):
        assert is_public(ipaddress.ip_address(address)), address


def test_the_connection_guard_refuses_private_addresses_and_remembers_why(counting_server):
    guard = ConnectionGuard()
    before = counting_server.connections
    for host in ("127.0.0.1", "localhost", "2130706433"):
        with pytest.raises(UnsafeAddress):
            guard.create_connection((host, counting_server.port), timeout=2)
    assert counting_server.connections == before  # not even a TCP handshake
    assert len(guard.refusals) == 3
    assert "private or reserved" in guard.refusals[0]
    assert "unusual spelling" in guard.refusals[2]


def test_the_connection_guard_connects_to_allowed_addresses(counting_server):
    guard = ConnectionGuard(allow_private=True)
    conn = guard.create_connection(("localhost", counting_server.port), timeout=2)
    try:
        assert conn.getpeername()[1] == counting_server.port
    finally:
        conn.close()
    assert isinstance(conn, socket.socket)


# --- Offline: the network is blamed, not the link -------------------------------------------


def names_resolve(monkeypatch) -> None:
    """Probe names that resolve anywhere (from /etc/hosts): the network answers."""
    monkeypatch.setattr(defaults, "NETWORK_PROBE_HOSTS", ("localhost",))


def nothing_resolves(monkeypatch) -> None:
    """Probe names that resolve nowhere (RFC 2606 .invalid), as when the machine is offline."""
    monkeypatch.setattr(defaults, "NETWORK_PROBE_HOSTS", ("offline-probe.invalid",))


def test_an_unknown_host_is_the_links_fault_while_names_resolve(monkeypatch):
    names_resolve(monkeypatch)
    with pytest.raises(UnsafeURL, match="could not be found; check the link"):
        check_url("https://no-such-host.invalid/talk.mp4")


def test_offline_a_link_is_answered_with_the_network_not_the_link(monkeypatch, settings):
    nothing_resolves(monkeypatch)
    with pytest.raises(NetworkUnreachable) as offline:
        sources.classify("https://no-such-host.invalid/talk.mp4", settings)
    assert "the network is unreachable" in str(offline.value) and "check the link" not in str(offline.value)
    assert not isinstance(offline.value, InvalidInput)  # not the creator's mistake
    assert isinstance(offline.value, ConnectionError)  # a step that meets it is retried as NETWORK_ERROR


def test_offline_a_download_fails_as_a_network_error(monkeypatch, tmp_path):
    nothing_resolves(monkeypatch)
    downloader = Downloader(tmp_path / "media", ConnectionGuard())
    with pytest.raises(StepError) as failed:
        downloader.metadata("https://no-such-host.invalid/talk.mp4")
    assert failed.value.code is ErrorCode.NETWORK_ERROR
    assert "network is unreachable" in failed.value.message and "check the link" not in failed.value.message
