"""Where the local stack's e-mail goes: moto's SES keeps every message "sent" (account alerts through SendEmail, and
the console's verification codes, local.aws.cognito_codes), and nothing leaves the machine. Installed by
local.aws.moto_server, this serves them to tests and to a developer at

    GET {moto endpoint}/moto-api/retouch/emails?to=<address>   JSON [{id, source, to, subject, body}], oldest first

`fetch_emails` and `latest_code` read it over HTTP (e2e and browser tests); `sent_emails` reads moto's state in the
process that runs it (the integration tier's in-process moto). Written against moto 5.2.6 (local.aws.MOTO_VERSION):
SesBackend.sent_messages and moto.moto_api._internal.urls.url_paths.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

PATH = "/moto-api/retouch/emails"
_CODE = re.compile(r"\b(\d{6})\b")


@dataclass(frozen=True)
class CapturedEmail:
    id: str
    source: str
    to: list[str]
    subject: str
    body: str


def sent_emails(to: str | None = None) -> list[CapturedEmail]:
    """Every message moto's SES holds in this process (all accounts and regions), oldest first; only those to `to`."""
    from moto.ses.models import ses_backends

    found = []
    for regions in ses_backends.values():
        for backend in regions.values():
            for message in backend.sent_messages:
                recipients = [address for addresses in (getattr(message, "destinations", None) or {}).values()
                              for address in addresses]
                if to is None or to.lower() in (address.lower() for address in recipients):
                    found.append(CapturedEmail(id=message.id, source=message.source, to=recipients,
                                               subject=str(getattr(message, "subject", "")),
                                               body=str(getattr(message, "body", ""))))
    return found


def code_in(email: CapturedEmail) -> str:
    match = _CODE.search(email.body)
    if match is None:
        raise LookupError(f"no 6-digit code in the e-mail {email.subject!r}")
    return match.group(1)


def fetch_emails(endpoint_url: str, to: str | None = None) -> list[CapturedEmail]:
    """The stack's captured e-mails over HTTP (its moto endpoint: `stack.aws_endpoint_url`)."""
    query = f"?{urllib.parse.urlencode({'to': to})}" if to else ""
    with urllib.request.urlopen(f"{endpoint_url}{PATH}{query}", timeout=10) as response:  # noqa: S310 (loopback)
        return [CapturedEmail(**entry) for entry in json.loads(response.read())]


def latest_code(endpoint_url: str, to: str) -> str:
    """The verification code in the latest e-mail to `to` (after sign-up or a resend)."""
    emails = fetch_emails(endpoint_url, to)
    if not emails:
        raise LookupError(f"no e-mail to {to}")
    return code_in(emails[-1])


def _serve(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    to = urllib.parse.parse_qs(urllib.parse.urlsplit(full_url).query).get("to", [None])[0]
    return 200, {"Content-Type": "application/json"}, json.dumps([asdict(email) for email in sent_emails(to)])


def install() -> None:
    """Adds the listing to moto's own API paths (read when the server builds its moto-api app, on first use)."""
    from moto.moto_api._internal import urls

    urls.url_paths["{0}" + PATH + "$"] = _serve
