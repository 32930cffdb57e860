"""The reliability case ids that code and tests cite are defined in docs/RELIABILITY.md,
and the tests that page names exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "RELIABILITY.md"
CITED = re.compile(r"\bR-[A-H]\d{1,2}\b")
ROW = re.compile(r"^\| (R-[A-H]\d{1,2}) \|(.*)\|(.*)\|$", re.MULTILINE)


def _defined() -> dict[str, str]:
    rows = ROW.findall(CATALOGUE.read_text(encoding="utf-8"))
    ids = [case_id for case_id, _, _ in rows]
    assert len(ids) == len(set(ids)), "an id is defined twice"
    return {case_id: where for case_id, _, where in rows}


def _tracked_sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if ROOT / name != CATALOGUE]


def test_every_cited_case_id_is_defined_in_the_catalogue() -> None:
    """A citation such as R-A12 anywhere in the tree names a row of docs/RELIABILITY.md."""
    defined = _defined()
    undefined = {
        f"{path.relative_to(ROOT)}: {case_id}"
        for path in _tracked_sources()
        if path.exists()
        for case_id in CITED.findall(path.read_text(encoding="utf-8"))
        if case_id not in defined
    }
    assert not undefined, sorted(undefined)


def test_every_test_module_the_catalogue_names_exists() -> None:
    """Each test_<name> in a row's last column is a module under tests/."""
    modules = {path.stem for path in (ROOT / "tests").rglob("test_*.py")}
    named = {name for where in _defined().values() for name in re.findall(r"\btest_\w+", where)}
    assert named - modules == set()
