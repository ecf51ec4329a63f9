"""Attempts on the auth routes, limited per client address and per e-mail in one-minute windows: sign-up floods,
password guessing and guessing 6-digit codes are refused (429) before the identity service is asked. Subjects are
stored hashed: the table keeps no e-mail or address for this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from retouch.console.ports import AttemptCounter
from retouch.errors import AuthRateLimited

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class AttemptLimits:
    counter: AttemptCounter
    per_address: int  # every auth route's attempts from one address, per minute
    per_email: int  # verification, resend and sign-in attempts for one e-mail, per minute


def count_attempt(limits: AttemptLimits, *, address: str, email: str | None, now: int) -> None:
    """Counts the attempt against the address and (when given) the e-mail; AuthRateLimited past either limit."""
    window = now // WINDOW_SECONDS
    subjects = [(f"address:{address}", limits.per_address)]
    if email is not None:
        subjects.append((f"email:{email}", limits.per_email))
    for subject, limit in subjects:
        counted = limits.counter.count_attempt(_hashed(subject), window, limit)
        if not counted.admitted:
            raise AuthRateLimited("Too many attempts; wait a minute and try again.",
                                  retry_after_seconds=(window + 1) * WINDOW_SECONDS - now)


def _hashed(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()
