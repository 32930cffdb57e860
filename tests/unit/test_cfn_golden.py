"""Golden templates: any change to generated infrastructure shows up as a reviewable diff.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/test_cfn_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudformation import StackConfig, deploy_order

GOLDEN = Path(__file__).parents[1] / "golden" / "cloudformation"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
STACKS = {stack.key: stack for stack in deploy_order(StackConfig())}


@pytest.mark.parametrize("key", list(STACKS))
def test_template_matches_golden_copy(key: str) -> None:
    """Each stack's JSON equals its stored golden copy byte for byte."""
    path = GOLDEN / f"{key}.json"
    text = STACKS[key].build().to_json() + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden copy {path}: run with UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, (
        f"{key} drifted from {path}; review the diff, then regenerate with UPDATE_GOLDEN=1"
    )


def test_every_golden_copy_belongs_to_a_stack() -> None:
    """No golden file outlives its stack (a removed service leaves no stale template)."""
    if UPDATE:
        for stale in {p.stem for p in GOLDEN.glob("*.json")} - set(STACKS):
            (GOLDEN / f"{stale}.json").unlink()
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(STACKS)
