"""Decide whether a user-supplied URL may be contacted (image inputs, webhook targets).

A URL is safe when it is http(s), carries no credentials, and every address its host
resolves to is globally routable. Hosts on the operator's allowlist (a self-hosted deployment
may legitimately fetch from an intranet bucket) are exempt from that private-address rule only:
they are still resolved and pinned, an entry with a port allows only that port, and
cloud-metadata and link-local addresses are refused for them too.

No HTTP client here: the API function vets webhook URLs with this module alone.
`url_fetch` re-checks every hop and pins the connection to the vetted address.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ResolveFn = Callable[..., Iterable[tuple[Any, ...]]]

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not globally routable, or not a unicast destination, whatever `ipaddress` of this Python says.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, incl. the 169.254.169.254 metadata service
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast
    )
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 (deprecated): may embed any IPv4 address, and Python 3.13 calls it non-global
        "3fff::/20",  # documentation
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# ::a.b.c.d (deprecated IPv4-compatible addresses; :: and ::1 themselves are not IPv4).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Refused even for allowlisted hosts: instance metadata and credentials live here (AWS, GCP, Azure and ECS on
# 169.254.169.254/169.254.170.2, AWS over IPv6 on fd00:ec2::254, Alibaba on 100.100.100.200), and
# "this network" 0.0.0.0/8, which reaches the machine itself.
_NEVER = (
    ipaddress.IPv4Network("169.254.0.0/16"),
    ipaddress.IPv4Network("0.0.0.0/8"),
    ipaddress.IPv4Network("100.100.100.200/32"),
    ipaddress.IPv6Network("fe80::/10"),
    ipaddress.IPv6Network("fd00:ec2::254/128"),
    ipaddress.IPv6Network("::/128"),
)
# fd00:ec2::254 (the EC2 metadata service over IPv6) is unique-local, outside 2000::/3.


class UnsafeUrl(Exception):
    """The URL may not be contacted. `code` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ResolvedTarget:
    """A vetted URL. `path` is the request target (path plus `?query`, never empty).

    `ip` is the vetted address to connect to and `ips` every address the host resolved to.
    `allowlisted` says the private-address rule was waived (the operator's allowlist).
    """

    scheme: str
    host: str
    port: int
    path: str
    ip: str
    ips: tuple[str, ...]
    allowlisted: bool = False

    @property
    def pinned_url(self) -> str:
        """The URL with the vetted address in place of the host name (connect there, send `host_header`)."""
        ip_host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip_host}:{self.port}{self.path}"

    @property
    def tls_extensions(self) -> dict[str, str]:
        """httpx request extensions: the TLS server name is the host, not the pinned address."""
        return {"sni_hostname": self.host} if self.scheme == "https" else {}

    @property
    def host_header(self) -> str:
        """The Host header value the original URL implies."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS.get(self.scheme) == self.port else f"{host}:{self.port}"


def parse_allowlist(text: str | None) -> frozenset[str]:
    """`RETOUCH_URL_ALLOWLIST` ("host, host:port, [::1]:8080") as a set of lower-case entries."""
    if not text:
        return frozenset()
    return frozenset(entry.strip().lower().rstrip(".") for entry in text.split(",") if entry.strip())


def is_public_address(address: str | IPAddress) -> bool:
    """True when `address` is a globally routable unicast address.

    IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the IPv4
    address they carry; 6to4 and Teredo addresses are refused outright. The blocklists here cover
    everything `ipaddress` calls non-global on Python 3.11 to 3.13, so the verdict does not
    depend on the Python version.
    """
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if address not in _GLOBAL_UNICAST_V6 or any(address in net for net in _BLOCKED_V6):
            return False
    elif any(address in net for net in _BLOCKED_V4):
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_url(
    url: str,
    *,
    allowlist: frozenset[str] | set[str],
    resolve: ResolveFn = socket.getaddrinfo,
    require_https: bool = False,
) -> ResolvedTarget:
    """Vet `url` and resolve its host. `resolve` is called as `resolve(host, port)` and returns
    `getaddrinfo`-shaped tuples. Raises UnsafeUrl."""
    scheme, host, port, path = _split(url)
    allowlisted = is_allowlisted(host, port, allowlist)

    # An allowlisted intranet receiver often has no public certificate: plain http is the operator's call.
    if require_https and scheme != "https" and not allowlisted:
        raise UnsafeUrl("url_scheme_not_allowed", "only https URLs are allowed")

    literal = _ip_literal(host)
    ips = (str(literal),) if literal is not None else _resolve(host, port, resolve)
    if any(_never_contacted(ip) for ip in ips):
        raise UnsafeUrl("url_host_not_allowed", "URL reaches a link-local or cloud-metadata address")
    if not allowlisted and not all(is_public_address(ip) for ip in ips):
        raise UnsafeUrl("url_host_not_allowed", "URL host resolves to a private or reserved address")
    chosen = next((ip for ip in ips if ":" not in ip), ips[0])
    return ResolvedTarget(scheme, host, port, path, ip=chosen, ips=ips, allowlisted=allowlisted)


def _never_contacted(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        # The IPv4 address an IPv6 one carries (mapped, NAT64, or the old IPv4-compatible form) is what it reaches.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return any(address.version == net.version and address in net for net in _NEVER)


def _split(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl("invalid_url", "URL is empty or too long")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UnsafeUrl("invalid_url", "URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("invalid_url", "URL could not be parsed") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise UnsafeUrl("invalid_url", "URL must be absolute, with a scheme and a host")
    if scheme not in DEFAULT_PORTS:
        raise UnsafeUrl("url_scheme_not_allowed", "only http and https URLs are allowed")
    if "@" in parts.netloc:
        raise UnsafeUrl("invalid_url", "URLs carrying credentials are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("invalid_url", "URL has no host")
    if ":" in host and _ip_literal(host) is None:
        raise UnsafeUrl("invalid_url", "URL host is not a valid IPv6 address")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnsafeUrl("invalid_url", "URL host is not a valid domain name") from exc
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif port == 0:
        raise UnsafeUrl("invalid_url", "URL port is out of range")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host.lower(), port, path


def is_allowlisted(host: str, port: int, allowlist: frozenset[str] | set[str]) -> bool:
    """`host` is on the list as itself (any port) or as `host:port`; an entry with another port does not match."""
    if not allowlist:
        return False
    bracketed = f"[{host}]" if ":" in host else host
    entries = {entry.lower().rstrip(".") for entry in allowlist}
    return host in entries or bracketed in entries or f"{bracketed}:{port}" in entries


def resolve_within(timeout_seconds: float, lookup: ResolveFn | None = None) -> ResolveFn:
    """`lookup` (default `socket.getaddrinfo`) that gives up after `timeout_seconds`: the C call has no timeout.

    The lookup runs on a daemon thread; one that outlives its caller finishes on its own, unused."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        outcome: list[Any] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append(list((lookup or socket.getaddrinfo)(host, port, *args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                outcome.append(exc)
            done.set()

        threading.Thread(target=run, name="dns", daemon=True).start()
        if not done.wait(max(timeout_seconds, 0.0)):
            raise TimeoutError(f"resolving {host} took longer than {timeout_seconds:g} s")
        result: list[tuple[Any, ...]] | BaseException = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    return resolve


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve(host: str, port: int, resolve: ResolveFn) -> tuple[str, ...]:
    try:
        infos = list(resolve(host, port))
    except (OSError, UnicodeError, ValueError) as exc:  # socket.gaierror is an OSError
        raise UnsafeUrl("url_unresolvable", "URL host could not be resolved") from exc
    ips: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in ips:
            ips.append(ip)
    if not ips:
        raise UnsafeUrl("url_unresolvable", "URL host could not be resolved")
    return tuple(ips)
