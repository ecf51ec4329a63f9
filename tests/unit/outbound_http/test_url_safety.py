"""check_url: scheme, credentials, allowlist and every resolved address are vetted."""

from __future__ import annotations

import socket

import pytest

from retouch.outbound_http.url_safety import (
    ResolvedTarget,
    UnsafeUrl,
    check_url,
    is_public_address,
    parse_allowlist,
)
from tests.fakes import RecordingResolver

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def failing_resolver(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_public_https_url_resolves_to_a_target() -> None:
    # Given a public host / When checked
    target = check_url(
        "https://images.example.com/cat.png?size=large#frag", allowlist=frozenset(),
        resolve=RecordingResolver(PUBLIC_V4)
    )

    # Then the target carries the pieces url_fetch needs to pin the connection
    assert target == ResolvedTarget(
        scheme="https",
        host="images.example.com",
        port=443,
        path="/cat.png?size=large",
        ip=PUBLIC_V4,
        ips=(PUBLIC_V4,),
        allowlisted=False,
    )
    assert target.host_header == "images.example.com"


def test_explicit_port_and_empty_path() -> None:
    target = check_url("http://Example.COM:8080", allowlist=frozenset(), resolve=RecordingResolver(PUBLIC_V4))
    assert (target.host, target.port, target.path, target.host_header) == ("example.com", 8080, "/", "example.com:8080")


def test_ipv4_is_preferred_when_both_families_resolve() -> None:
    target = check_url("https://dual.example.com/", allowlist=frozenset(),
                       resolve=RecordingResolver(PUBLIC_V6, PUBLIC_V4))
    assert target.ip == PUBLIC_V4
    assert target.ips == (PUBLIC_V6, PUBLIC_V4)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",  # EC2/ECS metadata
        "169.254.170.2",  # ECS task credentials
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.0.1",
        "192.0.2.5",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # EC2 metadata over IPv6
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:808:808::1",  # 6to4, even of a public address
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",  # documentation
        "100::1",  # discard-only
    ],
)
def test_hosts_resolving_to_non_global_addresses_are_refused(address: str) -> None:
    # Given a host name that resolves to a non-global address
    resolve = RecordingResolver(address)

    # When / Then
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("https://innocent.example.com/x.png", allowlist=frozenset(), resolve=resolve)
    assert excinfo.value.code == "url_host_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1%25eth0]/",
        "http://10.0.0.1:9000/bucket/key",
        "http://0.0.0.0/",
    ],
)
def test_literal_private_addresses_are_refused_without_resolving(url: str) -> None:
    resolve = RecordingResolver(PUBLIC_V4)
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url(url, allowlist=frozenset(), resolve=resolve)
    assert excinfo.value.code == "url_host_not_allowed"
    assert resolve.asked == []


def test_literal_public_address_is_accepted_without_resolving() -> None:
    resolve = RecordingResolver()
    target = check_url(f"http://{PUBLIC_V4}/a.png", allowlist=frozenset(), resolve=resolve)
    assert (target.ip, target.ips) == (PUBLIC_V4, (PUBLIC_V4,))
    assert resolve.asked == []


def test_decimal_encoded_loopback_is_caught_by_resolution() -> None:
    # Given "2130706433", which getaddrinfo turns into 127.0.0.1
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("http://2130706433/", allowlist=frozenset(), resolve=RecordingResolver("127.0.0.1"))
    assert excinfo.value.code == "url_host_not_allowed"


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("https://mixed.example.com/", allowlist=frozenset(), resolve=RecordingResolver(PUBLIC_V4, "10.0.0.7"))
    assert excinfo.value.code == "url_host_not_allowed"


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_global_addresses_and_their_ipv6_forms_are_public(address: str) -> None:
    assert is_public_address(address) is True


def test_unparseable_address_is_not_public() -> None:
    assert is_public_address("not-an-ip") is False


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/a.png", "url_scheme_not_allowed"),
        ("file:///etc/passwd", "url_scheme_not_allowed"),
        ("gopher://example.com/", "url_scheme_not_allowed"),
        ("javascript:alert(1)", "url_scheme_not_allowed"),
        ("//example.com/a.png", "invalid_url"),
        ("example.com/a.png", "invalid_url"),
        ("", "invalid_url"),
        ("http://", "invalid_url"),
        ("http://user:pass@example.com/", "invalid_url"),
        ("http://user@example.com/", "invalid_url"),
        ("http://example.com\\@evil.com/", "invalid_url"),
        ("http://example.com:99999/", "invalid_url"),
        ("http://example.com:0/", "invalid_url"),
        ("http://exa mple.com/", "invalid_url"),
        ("http://example.com/\r\nHost: evil", "invalid_url"),
        ("http://[not-ipv6]/", "invalid_url"),
        ("https://example.com/" + "a" * 5000, "invalid_url"),
    ],
)
def test_malformed_or_disallowed_urls_are_refused(url: str, code: str) -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url(url, allowlist=frozenset(), resolve=RecordingResolver(PUBLIC_V4))
    assert excinfo.value.code == code
    assert excinfo.value.message


def test_require_https_refuses_plain_http() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("http://hooks.example.com/", allowlist=frozenset(),
                  resolve=RecordingResolver(PUBLIC_V4), require_https=True)
    assert excinfo.value.code == "url_scheme_not_allowed"


def test_unresolvable_host() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("https://nope.invalid/", allowlist=frozenset(), resolve=failing_resolver)
    assert excinfo.value.code == "url_unresolvable"


def test_empty_resolution_is_unresolvable() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("https://empty.example.com/", allowlist=frozenset(), resolve=RecordingResolver())
    assert excinfo.value.code == "url_unresolvable"


def test_idn_host_is_punycoded_before_resolution() -> None:
    resolve = RecordingResolver(PUBLIC_V4)
    target = check_url("https://bücher.example/", allowlist=frozenset(), resolve=resolve)
    assert target.host == "xn--bcher-kva.example"
    assert resolve.asked == [("xn--bcher-kva.example", 443)]


# -- Allowlist -----------------------------------------------------------------------------


def test_allowlisted_host_is_exempt_from_the_private_address_rule_only() -> None:
    # Given an intranet host on the operator's allowlist
    resolve = RecordingResolver("10.0.0.5")

    # When checked
    target = check_url("http://minio.internal:9000/bucket/a.png", allowlist={"minio.internal:9000"}, resolve=resolve)

    # Then its private address is allowed, but it is still resolved and pinned to what it resolved to
    assert target.allowlisted is True
    assert (target.ip, target.ips) == ("10.0.0.5", ("10.0.0.5",))
    assert resolve.asked == [("minio.internal", 9000)]
    assert target.pinned_url == "http://10.0.0.5:9000/bucket/a.png"


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200",
                                     "0.0.0.0", "fe80::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
                                     "::a9fe:a9fe"])
def test_an_allowlisted_host_resolving_to_a_metadata_address_is_refused(address: str) -> None:
    # Given an allowlisted name that (now) resolves to a cloud-metadata or link-local address
    # When checked
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("http://minio.internal/latest/meta-data/", allowlist={"minio.internal"},
                  resolve=RecordingResolver(address))

    # Then it is refused all the same
    assert excinfo.value.code == "url_host_not_allowed"


def test_an_allowlisted_metadata_literal_is_refused() -> None:
    with pytest.raises(UnsafeUrl):
        check_url("http://169.254.169.254/latest/", allowlist={"169.254.169.254"}, resolve=RecordingResolver())


def test_an_unresolvable_allowlisted_host_is_unresolvable() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("http://minio.internal/a.png", allowlist={"minio.internal"}, resolve=failing_resolver)
    assert excinfo.value.code == "url_unresolvable"


def test_bare_host_entry_allows_any_port_and_is_case_insensitive() -> None:
    target = check_url("http://LocalHost:3000/x", allowlist=parse_allowlist("localhost"),
                       resolve=RecordingResolver("127.0.0.1"))
    assert target.allowlisted is True


def test_host_port_entry_does_not_allow_other_ports() -> None:
    with pytest.raises(UnsafeUrl) as excinfo:
        check_url("http://localhost:3001/x", allowlist=parse_allowlist("localhost:3000"),
                  resolve=RecordingResolver("127.0.0.1"))
    assert excinfo.value.code == "url_host_not_allowed"


def test_host_port_entry_matches_default_port() -> None:
    target = check_url(
        "https://files.corp/x", allowlist=parse_allowlist("files.corp:443"), resolve=RecordingResolver("10.0.0.1")
    )
    assert target.allowlisted is True


def test_allowlisted_literal_ip_and_ipv6() -> None:
    allowlist = parse_allowlist("127.0.0.1:4566, [::1]:8080")
    assert check_url("http://127.0.0.1:4566/b/k", allowlist=allowlist, resolve=RecordingResolver()).allowlisted
    assert check_url("http://[::1]:8080/", allowlist=allowlist, resolve=RecordingResolver()).allowlisted


def test_allowlisted_host_is_exempt_from_require_https() -> None:
    target = check_url("http://127.0.0.1:3000/hook", allowlist={"127.0.0.1"},
                       resolve=RecordingResolver(), require_https=True)
    assert target.allowlisted is True


def test_allowlist_does_not_excuse_credentials_or_bad_scheme() -> None:
    with pytest.raises(UnsafeUrl):
        check_url("http://u:p@localhost/", allowlist={"localhost"}, resolve=RecordingResolver())
    with pytest.raises(UnsafeUrl):
        check_url("ftp://localhost/", allowlist={"localhost"}, resolve=RecordingResolver())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", frozenset()),
        (None, frozenset()),
        ("  ", frozenset()),
        ("localhost", frozenset({"localhost"})),
        ("LocalHost:3000, minio.internal:9000 ,,", frozenset({"localhost:3000", "minio.internal:9000"})),
        ("host.example.", frozenset({"host.example"})),
    ],
)
def test_parse_allowlist(text: str | None, expected: frozenset[str]) -> None:
    assert parse_allowlist(text) == expected
