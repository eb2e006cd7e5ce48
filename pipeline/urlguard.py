"""URL safety: the one place that decides which URLs and addresses the product may fetch.

A creator's URL must be http(s), carry no credentials, name its host plainly, and resolve only
to public addresses: no loopback, private, link-local (cloud metadata at 169.254.169.254),
CGNAT, multicast, reserved or unique-local networks, however the address is spelled or wrapped
(decimal, octal, hex, IPv4-mapped, 6to4, NAT64). The same rules hold for every redirect hop and
every connection the downloader opens, which also defeats DNS rebinding: a guarded connection
goes to the address that was checked, not to a second lookup.

``allow_private`` (``CLIPINSIGHT_ALLOW_PRIVATE_URLS=1``) lifts the address rules only, for local
development and tests; scheme, credential and spelling rules always hold.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from pipeline import defaults
from pipeline.errors import ClipInsightError, InvalidInput

__all__ = [
    "UnsafeURL",
    "PrivateAddress",
    "UnsafeAddress",
    "NetworkUnreachable",
    "check_url",
    "check_host",
    "check_address",
    "is_public",
    "ConnectionGuard",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Networks ``ipaddress`` does not flag (or flags only in newer Pythons) that are never public.
_NOT_PUBLIC = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/96",  # IPv4-compatible (deprecated) and unspecified
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique-local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
]
#: NAT64 prefixes embed an IPv4 address in the last 32 bits.
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_NUMERIC_LABELS = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$")


class UnsafeURL(InvalidInput):
    """A URL the product refuses to fetch; the message says why, in a creator's words."""


class PrivateAddress(UnsafeURL):
    """The URL is well formed but leads to an address that is not public."""


class UnsafeAddress(OSError):
    """A connection the downloader tried to open to an address the guard refuses; ``private``
    when the address (rather than the host's spelling) was the reason."""

    def __init__(self, message: str, *, private: bool = False):
        super().__init__(message)
        self.private = private


class NetworkUnreachable(ClipInsightError, ConnectionError):
    """No name resolves from this machine: the network is away, not the link wrong. A
    ConnectionError, so a step that meets it is retried (NETWORK_ERROR)."""

    def __init__(self, host: str):
        super().__init__(
            f"the network is unreachable: {host!r} and every other site fail to look up from this machine; "
            "check its internet connection and try again"
        )


def check_url(url: str, *, allow_private: bool = False, exempt: frozenset[tuple[str, int]] = frozenset()) -> str:
    """Return the URL, normalised, or raise :class:`UnsafeURL`; resolves the host (no request).

    ``exempt`` names (address, port) pairs treated as public: a test serves a "public" site on
    loopback this way while every other private address stays refused."""
    parts = _split(url)
    host = check_host(parts.hostname or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private:
        _resolve_public(host, port, exempt)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _split(url: str):
    text = (url or "").strip()
    if any(ord(ch) < 33 or ch == "\\" for ch in text):
        raise UnsafeURL("the link contains spaces, control characters or backslashes; paste the address exactly")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https links are supported, not {scheme or 'this kind of'} link")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL("links with a user name or password in them are not accepted; remove the part before '@'")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise UnsafeURL("the link has an invalid port number") from None
    return parts._replace(scheme=scheme)


def check_host(host: str) -> str:
    """The host in canonical form (lowercase, IDNA, no trailing dot), or raise :class:`UnsafeURL`."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise UnsafeURL("the link has no host name")
    literal = _ip_literal(host)
    if literal is not None:
        return literal.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(f"the host name {host!r} is not valid") from None
    if _NUMERIC_LABELS.match(ascii_host):
        raise UnsafeURL(f"{host!r} is an IP address in an unusual spelling; write it as four decimal numbers")
    if not _HOSTNAME.match(ascii_host):
        raise UnsafeURL(f"the host name {host!r} is not valid")
    return ascii_host


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _resolve_public(host: str, port: int, exempt: frozenset[tuple[str, int]] = frozenset()) -> list[IPAddress]:
    addresses = _resolve(host, port)
    for address in addresses:
        if (str(address), port) not in exempt:
            check_address(address, host)
    return addresses


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN or not _names_resolve():  # offline, not a wrong link
            raise NetworkUnreachable(host) from None
        raise UnsafeURL(f"the host {host!r} could not be found; check the link") from None
    except UnicodeError:
        raise UnsafeURL(f"the host name {host!r} is not valid") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"the host {host!r} has no address")
    return addresses


def _names_resolve() -> bool:
    """Whether any of the names that always exist resolves: when none does, a name that fails
    tells nothing about the link."""
    for name in defaults.NETWORK_PROBE_HOSTS:
        try:
            socket.getaddrinfo(name, 443, 0, socket.SOCK_STREAM)
            return True
        except (socket.gaierror, UnicodeError):
            continue
    return False


def check_address(address: IPAddress | str, host: str = "") -> None:
    """Raise :class:`UnsafeURL` unless ``address`` is a public unicast address."""
    address = ipaddress.ip_address(address) if isinstance(address, str) else address
    if not is_public(address):
        shown = f"{host!r} ({address})" if host and host != str(address) else str(address)
        raise PrivateAddress(
            f"the link points to {shown}, a private or reserved network address; only public sites can be fetched"
        )


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address, after unwrapping embedded IPv4 forms."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public(embedded)
    flags = (
        address.is_private,
        address.is_loopback,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
    )
    if any(flags) or not address.is_global:
        return False
    return not any(address in net for net in _NOT_PUBLIC if net.version == address.version)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address; the server part is public by construction
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclass
class ConnectionGuard:
    """Checks every connection and redirect a downloader makes; remembers what it refused so the
    caller can tell the creator why a download failed."""

    allow_private: bool = False
    exempt: frozenset[tuple[str, int]] = frozenset()
    refusals: list[str] = field(default_factory=list)

    def check_hop(self, url: str) -> None:
        """A redirect target: the same rules as the submitted URL."""
        try:
            check_url(url, allow_private=self.allow_private, exempt=self.exempt)
        except UnsafeURL as exc:
            self.refusals.append(f"a redirect was refused: {exc}")
            raise

    def create_connection(self, address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        """Like :func:`socket.create_connection`, connecting only to checked addresses."""
        host, port = address[0], address[1]
        candidates = self._checked_addresses(str(host), int(port))
        error: OSError | None = None
        for candidate in candidates:
            try:
                return socket.create_connection((str(candidate), port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"no address to connect to for {host}")

    def _checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            host = check_host(host)
            addresses = _resolve(host, port) if self.allow_private else _resolve_public(host, port, self.exempt)
        except UnsafeURL as exc:
            self.refusals.append(str(exc))
            raise UnsafeAddress(str(exc), private=isinstance(exc, PrivateAddress)) from None
        return addresses
