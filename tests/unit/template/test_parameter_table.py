"""The runbook's parameter table (docs/operations.md#parameters) is complete: it lists every `Parameters` entry of
template.yaml and nothing else, with the template's default and the environment variables the parameter sets; and it
is the only parameter table in the docs, so no copy can drift from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.cloudformation.template import load_yaml

ROOT = Path(__file__).resolve().parents[3]
RUNBOOK = ROOT / "docs" / "operations.md"
SECTION = "## Parameters"
HEADER = ("Parameter", "Default", "Where it goes", "What it does")
# What a function's environment variable looks like in the "Where it goes" column.
ENV_VAR = re.compile(r"`((?:RETOUCH|POWERTOOLS)_[A-Z0-9_]+)`")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _unquoted(cell: str) -> str:
    """A cell's code literal: `x` -> x, and `""` (how the table shows an empty default) -> the empty string."""
    match = re.fullmatch(r"`([^`]*)`", cell)
    assert match, f"not a single code literal: {cell!r}"
    return "" if match.group(1) == '""' else match.group(1)


def _table_rows(text: str) -> list[list[str]]:
    """The rows of the first table under SECTION (header and separator left out)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(SECTION))
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            break  # the table ended
    assert rows, f"no table under {SECTION!r} in {RUNBOOK.name}"
    header, separator, *body = rows
    assert tuple(header) == HEADER
    assert set("".join(separator)) <= set("-: ")
    return body


def _env_vars_of(parameter: str, template: dict[str, Any]) -> set[str]:
    """Every function environment variable (Globals included) whose value is `!Ref parameter`, or an `!If` one of
    whose branches is (a parameter with a derived default: UpstreamCallbackBaseUrl)."""
    sources = [template.get("Globals", {}).get("Function", {})]
    sources += [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]

    def refers(value: Any) -> bool:
        branches = value.get("Fn::If", [None])[1:] if isinstance(value, dict) else []
        return value == {"Ref": parameter} or any(branch == {"Ref": parameter} for branch in branches)

    return {name for source in sources
            for name, value in source.get("Environment", {}).get("Variables", {}).items() if refers(value)}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml((ROOT / "template.yaml").read_text())


@pytest.fixture(scope="module")
def table() -> dict[str, list[str]]:
    rows = _table_rows(RUNBOOK.read_text())
    names = [_unquoted(row[0]) for row in rows]
    assert len(names) == len(set(names)), "a parameter is listed twice"
    return dict(zip(names, rows, strict=True))


def test_the_table_lists_every_template_parameter_and_no_other(template, table):
    # Given the template's parameters and the runbook's table
    declared = set(template["Parameters"])
    # When their names are compared
    listed = set(table)
    # Then neither has a name the other lacks
    assert declared - listed == set(), "in template.yaml, missing from docs/operations.md#parameters"
    assert listed - declared == set(), "in docs/operations.md#parameters, not in template.yaml"


def test_each_default_is_the_templates(template, table):
    # Given each parameter's default as the template declares it (absent: no default, shown as "")
    for name, row in table.items():
        declared = template["Parameters"][name].get("Default", "")
        # When the table's default cell is read
        shown = _unquoted(row[1])
        # Then it is the same value
        assert shown == str(declared), f"{name}: table says {shown!r}, template.yaml {declared!r}"


def test_each_row_names_the_environment_variables_its_parameter_sets(template, table):
    # Given the functions' environment variables set from each parameter
    for name, row in table.items():
        expected = _env_vars_of(name, template)
        # When the "Where it goes" cell is read
        named = set(ENV_VAR.findall(row[2]))
        # Then it names exactly those
        assert named == expected, f"{name}: table names {sorted(named)}, template.yaml sets {sorted(expected)}"


def test_no_other_page_repeats_the_parameter_table():
    # Given every Markdown page of the repository's docs, the README included
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    # When their tables' first header cells are read
    repeats = [page.name for page in pages if page != RUNBOOK
               for line in page.read_text().splitlines()
               if line.startswith("|") and _cells(line)[0].startswith("Parameter")]
    # Then only the runbook has a parameter table
    assert repeats == []
