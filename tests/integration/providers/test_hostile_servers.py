"""Outbound calls against hostile servers on loopback: a decompression bomb is refused unread, and a header or
TLS handshake dripped one byte at a time cannot hold an image fetch, a webhook attempt or a provider call past
its deadline. (Each hostile server gives up by itself after a minute, so "ended long before that" is the proof;
the bounds below leave several times the deadline of slack.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from retouch.outbound_http.url_fetch import UrlFetchError, fetch_url
from retouch.providers.base import ProviderUnavailable
from retouch.providers.openai import openai_upstream
from retouch.webhooks.sender import WebhookSender
from tests.builders import REPO_ROOT
from tests.integration.providers.hostile import (
    DRIP_INTERVAL_SECONDS,
    endless_body,
    gzip_bomb,
    gzip_bomb_response,
    header_drip,
    hostile,
    tls_handshake_drip,
)

LOOPBACK = frozenset({"127.0.0.1"})
DEADLINE = 2.0
# Far below the hostile servers' own minute, far above the deadline: no scheduler hiccup reaches it.
ENDED_WELL_BEFORE = DEADLINE + 8.0
MB = 1024 * 1024


def fetch(url: str, timeout: float = DEADLINE) -> bytes:
    return fetch_url(url, allowlist=LOOPBACK, max_bytes=50 * MB, timeout_seconds=timeout).data


# -- 1. decompression bombs ------------------------------------------------------------------------------------


def test_the_bomb_really_is_one() -> None:
    # Given the test's bomb: a couple of KB that decode (twice) to 512 MB
    import gzip
    import zlib

    bomb = gzip_bomb()
    inner = gzip.decompress(bomb)
    inflate = zlib.decompressobj(31)
    inflated = 0
    while inner:  # counted in 1 MB steps, so this test itself stays small
        inflated += len(inflate.decompress(inner, MB))
        inner = inflate.unconsumed_tail
    assert len(bomb) < 4096 and inflated == 512 * MB


@pytest.mark.parametrize("encoding", ["gzip, gzip", "gzip", "deflate", "br"])
def test_an_image_url_answering_a_gzip_bomb_fails_the_job_without_decoding_it(encoding: str) -> None:
    # Given an image URL whose server answers a stacked-gzip bomb although identity was asked for
    with hostile(gzip_bomb_response(encoding)) as server:
        # When the worker fetches it
        with pytest.raises(UrlFetchError) as refused:
            fetch(server.url())

        # Then it asked for identity, and the fetch fails with a clear, permanent code
        assert b"accept-encoding: identity" in server.connections[0].request.lower()
    assert refused.value.code == "image_url_encoding_refused"


def test_the_worker_process_stays_small_on_a_gzip_bomb() -> None:
    # Given a fresh interpreter doing what the worker does with an image URL
    # (VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.)
    script = f"""
import json, sys
sys.path[:0] = [{str(REPO_ROOT / "layers" / "common")!r}]
from retouch.outbound_http.url_fetch import UrlFetchError, fetch_url

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

before = peak_kb()
try:
    fetch_url(sys.argv[1], allowlist={{"127.0.0.1"}}, max_bytes=50 * 1024 * 1024, timeout_seconds=20)
    code = None
except UrlFetchError as exc:
    code = exc.code
print(json.dumps({{"code": code, "before_kb": before, "peak_kb": peak_kb()}}))
"""
    with hostile(gzip_bomb_response()) as server:
        # When it fetches the bomb
        done = subprocess.run([sys.executable, "-c", script, server.url()], capture_output=True, text=True,
                              timeout=60, check=True)
    outcome = json.loads(done.stdout)

    # Then the process's peak memory barely moves (the bomb decodes to 512 MB; the old fetcher went to GBs)
    print(f"\nworker fetch of a gzip bomb: peak RSS {outcome['peak_kb'] / 1024:.0f} MB "
          f"(after imports {outcome['before_kb'] / 1024:.0f} MB)")
    assert outcome["code"] == "image_url_encoding_refused"
    assert outcome["peak_kb"] - outcome["before_kb"] < 64 * 1024


def test_a_provider_answering_a_gzip_bomb_is_a_bad_response() -> None:
    with hostile(gzip_bomb_response()) as server:
        provider = openai_upstream(api_key="sk-test", timeout_seconds=DEADLINE,
                                   base_url=f"http://127.0.0.1:{server.port}/v1")
        with pytest.raises(ProviderUnavailable) as refused:
            provider.submit(images=[], mask=None, options={"prompt": "x"})
    assert refused.value.code == "provider_bad_response" and "encoded" in refused.value.message


def test_a_webhook_receiver_streaming_an_endless_body_is_delivered_without_reading_it() -> None:
    # Given a receiver that answers 200 and then streams a body forever
    with hostile(endless_body) as server:
        sender = WebhookSender(allowlist=LOOPBACK, timeout_seconds=DEADLINE)

        # When an event is sent
        result = sender.send(server.url("/hook"), b"{}", {"webhook-id": "evt_1"})

    # Then the 200 counts, and the body was never read (the attempt did not run into its deadline)
    assert result.delivered, result.error


# -- 2 and 3. one deadline per call --------------------------------------------------------------------------


def test_an_image_url_dripping_its_headers_ends_at_the_deadline() -> None:
    # Given an image server that sends its status line, then a header one byte per half second
    with hostile(header_drip()) as server:
        # When the worker fetches it with a 2 s deadline (each byte arrives well within any per-read timeout)
        started = time.monotonic()
        with pytest.raises(UrlFetchError) as refused:
            fetch(server.url())
        elapsed = time.monotonic() - started

    # Then the fetch ends at its deadline as a timeout
    print(f"\nheader drip ({DRIP_INTERVAL_SECONDS} s per byte), {DEADLINE} s deadline: fetch ended after "
          f"{elapsed:.2f} s")
    assert refused.value.code == "image_url_timeout"
    assert DEADLINE <= elapsed < ENDED_WELL_BEFORE


def test_an_image_url_dripping_its_tls_handshake_ends_at_the_deadline() -> None:
    # Given an https image server that answers the ClientHello one byte per half second
    with hostile(tls_handshake_drip) as server:
        # When fetched (the handshake's reads are each short: only the call's watchdog can end it)
        started = time.monotonic()
        with pytest.raises(UrlFetchError) as refused:
            fetch(server.url(scheme="https"))
        elapsed = time.monotonic() - started

    # Then it ends at the deadline as a timeout
    assert refused.value.code == "image_url_timeout"
    assert elapsed < ENDED_WELL_BEFORE


def test_a_webhook_receiver_dripping_its_headers_fails_the_attempt_at_the_deadline() -> None:
    # Given a receiver that sends "200 OK" at once, then drips a header forever
    with hostile(header_drip()) as server:
        sender = WebhookSender(allowlist=LOOPBACK, timeout_seconds=DEADLINE)

        # When an event is sent
        started = time.monotonic()
        result = sender.send(server.url("/hook"), b"{}", {"webhook-id": "evt_1"})
        elapsed = time.monotonic() - started

    # Then the attempt is a failure at the deadline, never "delivered"
    assert not result.delivered and result.status_code is None
    assert result.error == f"no answer within {DEADLINE:g} s"
    assert elapsed < ENDED_WELL_BEFORE


def test_a_provider_dripping_its_headers_is_a_timeout_at_the_deadline() -> None:
    with hostile(header_drip()) as server:
        provider = openai_upstream(api_key="sk-test", timeout_seconds=DEADLINE,
                                   base_url=f"http://127.0.0.1:{server.port}/v1")
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as refused:
            provider.submit(images=[], mask=None, options={"prompt": "x"})
        elapsed = time.monotonic() - started
    assert refused.value.code == "provider_timeout"
    assert elapsed < ENDED_WELL_BEFORE
