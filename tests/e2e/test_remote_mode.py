"""Remote mode (RETOUCH_BASE_URL): the tier drives any stack by URL and key, and skips only `local_only` tests.

Proved against the session's own stack, taken as if deployed: a child pytest sees only its URL and key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from local.stack import LoopbackStack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]  # it needs a local stack to point the child at

E2E = Path(__file__).resolve().parent
# Two tests that run anywhere, and one that reads the stand-in provider's call log.
SELECTION = "test_models_lists or test_openapi_document or test_provider_500_then_success"


def test_a_child_run_with_only_a_base_url_and_key_passes_the_portable_tests_and_skips_local_only(
        stack: LoopbackStack, tmp_path: Path):
    env = {**os.environ, "RETOUCH_BASE_URL": stack.base_url, "RETOUCH_API_KEY": stack.api_key}
    report = tmp_path / "remote.xml"
    subprocess.run([sys.executable, "-m", "pytest", str(E2E / "test_core.py"), "-k", SELECTION, "-q",
                    "-p", "no:cacheprovider", f"--junitxml={report}"], env=env, cwd=E2E.parents[1],
                   capture_output=True, timeout=120, check=False)
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own pytest report)
        skipped = case.find("skipped")
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome = "failed" if failed is not None else "skipped" if skipped is not None else "passed"
        outcomes[case.get("name")] = (outcome, skipped.get("message", "") if skipped is not None else "")
    assert outcomes == {
        "test_models_lists_gpt_image_2_with_limits": ("passed", ""),
        "test_openapi_document_and_docs_are_served": ("passed", ""),
        "test_provider_500_then_success_ends_succeeded_once": (
            "skipped", f"local_only: needs the local stack's internals (remote mode: {stack.base_url})"),
    }
