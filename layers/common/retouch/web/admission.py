"""The per-minute rate limit around a route that creates something (a job, an upload)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from retouch.billing.rate_limit import Admission, admit
from retouch.errors import RetouchError
from retouch.ports import RateCounter


@contextmanager
def admitted(ledger: RateCounter, account_id: str, key_id: str | None) -> Iterator[Admission]:
    """Count the request against the account's per-minute limit (429 over it; 401 for a key revoked since the
    authorizer cached it); every response after that, errors included, carries the x-ratelimit-* headers."""
    admission = admit(ledger, account_id, key_id)
    try:
        yield admission
    except RetouchError as exc:
        exc.headers.update(admission.headers)
        raise
