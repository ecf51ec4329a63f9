"""The read limit every HTTP function's app applies (web/read_limit.py), built from its settings. Apart from
shared.py: the status function imports only this, never the queues and billing those builders reach."""

from __future__ import annotations

from retouch.config import ApiSettings, StatusSettings
from retouch.data.read_counts import ReadCountRepository
from retouch.web.read_limit import ReadLimit


def read_limit(settings: ApiSettings | StatusSettings) -> ReadLimit:
    """Requests that create nothing, counted per account and minute on their own item (data/read_counts.py)."""
    return ReadLimit(counter=ReadCountRepository(settings.table_name), per_minute=settings.reads_per_minute)
