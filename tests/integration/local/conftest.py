"""Local runtime integration tier: a real moto server (child process) and real function hosts on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.aws.moto_server import MotoServer
from local.console import Console

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DUMMY_TEMPLATE = HERE / "template.yaml"
REAL_TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def console() -> Console:
    return Console(quiet=True)


@pytest.fixture(scope="module")
def moto_url(console: Console) -> Iterator[str]:
    """A fresh emulation per module (resources have fixed names); modules reset what their tests change."""
    server = MotoServer(console)
    server.start()
    try:
        yield server.wait_ready(20)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws(moto_url: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.session.Session().client(service, endpoint_url=moto_url, region_name="us-east-1",
                                              aws_access_key_id="testing", aws_secret_access_key="testing")
    return client
