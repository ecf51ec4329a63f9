"""scripts.console_budget: the console's shipped JS and CSS measured gzipped and held to the budget."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.console_budget import BUDGET_GZIP_BYTES, over_budget, shipped_files


def test_sizes_are_measured_per_file_and_only_js_and_css_count(tmp_path: Path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-1.js").write_text("const a = 1;\n" * 400)
    (tmp_path / "assets" / "index-1.css").write_text("body { color: #111; }\n" * 50)
    (tmp_path / "index.html").write_text("<!doctype html>")
    files = {file.path.name: file for file in shipped_files(tmp_path)}
    assert set(files) == {"index-1.js", "index-1.css"}
    script = files["index-1.js"]
    assert script.raw_bytes == len("const a = 1;\n") * 400 and 0 < script.gzip_bytes < script.raw_bytes


def test_a_kind_past_its_budget_is_reported_and_one_within_is_not(tmp_path: Path):
    (tmp_path / "big.js").write_bytes(os.urandom(BUDGET_GZIP_BYTES[".js"] + 1024))  # random bytes do not compress
    (tmp_path / "small.css").write_text("a{}")
    over = over_budget(shipped_files(tmp_path))
    assert len(over) == 1 and over[0].startswith(".js: ") and "budget 40 KB" in over[0]
    assert over_budget(shipped_files(tmp_path), budget={".js": 10**9, ".css": 10**9}) == []
