"""What a DynamoDB round trip leaves of a value."""

from __future__ import annotations

import json
from typing import Any


def plain(value: Any) -> Any:
    """JSON types only, as a value read back from DynamoDB."""
    return json.loads(json.dumps(value))
