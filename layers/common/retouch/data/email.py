"""E-mail through Amazon SES (the operator's verified sender, template parameter AlertSenderEmail): plain-text
account alerts (payments/alerts.py). Locally, moto's SES stands in."""

from __future__ import annotations

from typing import Any

from retouch.data.clients import aws_client


class SesEmail:
    def __init__(self, sender: str, client: Any | None = None) -> None:
        self._sender = sender
        self._client = client or aws_client("ses")

    def send(self, to: str, subject: str, text: str) -> None:
        self._client.send_email(Source=self._sender, Destination={"ToAddresses": [to]},
                                Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                                         "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
