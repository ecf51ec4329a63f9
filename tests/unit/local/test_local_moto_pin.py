"""The moto the local AWS emulation patches is the moto installed: local/aws's patches reach into moto's internals.

When this fails after a moto upgrade: re-read each patch module against the new internals (each names what it
replaces), run tests/integration/local, then change MOTO_VERSION, the patches' docstrings and requirements-dev.txt.
"""

from __future__ import annotations

import ast
import re
from importlib.metadata import version
from pathlib import Path

import moto
import pytest

from local import REPO_ROOT
from local.aws import MOTO_VERSION

AWS_DIR = REPO_ROOT / "local" / "aws"


def patch_modules() -> list[Path]:
    """The modules of local/aws that patch moto: each has an `install()`."""
    return sorted(path for path in AWS_DIR.glob("*.py")
                  if any(isinstance(node, ast.FunctionDef) and node.name == "install"
                         for node in ast.parse(path.read_text()).body))


def test_the_installed_moto_is_the_one_the_patches_were_written_for():
    assert (moto.__version__, version("moto")) == (MOTO_VERSION, MOTO_VERSION), (
        f"moto {moto.__version__} is installed, local/aws's patches were written for {MOTO_VERSION}: see this "
        "module's docstring")


def test_requirements_pin_exactly_that_moto():
    pins = re.findall(r"^moto(?:\[[\w,]+\])?\s*([^\s#]+)", (REPO_ROOT / "requirements-dev.txt").read_text(), re.M)
    assert pins == [f"=={MOTO_VERSION}"]


def test_the_patch_modules_are_found():
    assert {path.stem for path in patch_modules()} == {
        "dynamodb_atomicity", "dynamodb_contention", "s3_copy_conditions", "s3_post_policy", "sqs_faults",
        "sqs_fair_queues", "cognito_codes", "email_capture", "dispatch_cache"}


@pytest.mark.parametrize("path", patch_modules(), ids=lambda path: path.stem)
def test_each_patch_names_the_moto_it_was_written_against(path: Path):
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert f"Written against moto {MOTO_VERSION} (local.aws.MOTO_VERSION)" in docstring
