"""Golden templates: any change to generated infrastructure shows up as a reviewable diff.

The default (SQLite) stacks are stored in ``tests/golden/cloudformation/``; with
``storage="dynamodb"`` the stacks that differ (the storage stack and the stateful
services') in its ``dynamodb/`` folder; with ``tracing=True`` one service stack and the edge
in ``tracing/``. Regenerate after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/test_cfn_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudformation import Stack, StackConfig, deploy_order

GOLDEN = Path(__file__).parents[1] / "golden" / "cloudformation"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
DEFAULT = {stack.key: stack for stack in deploy_order(StackConfig())}
DYNAMODB = {
    stack.key: stack
    for stack in deploy_order(StackConfig(storage="dynamodb"))
    if stack.key not in DEFAULT or stack.build().to_json() != DEFAULT[stack.key].build().to_json()
}
TRACED_STACKS = ("svc-catalog", "edge")
TRACING = {
    stack.key: stack
    for stack in deploy_order(StackConfig(tracing=True, egress="nat"))
    if stack.key in TRACED_STACKS
}
VARIANTS = {GOLDEN: DEFAULT, GOLDEN / "dynamodb": DYNAMODB, GOLDEN / "tracing": TRACING}
CASES = [(folder, key) for folder, stacks in VARIANTS.items() for key in stacks]


def stored(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.json")}


@pytest.mark.parametrize(
    ("folder", "key"), CASES, ids=[f"{folder.name}/{key}" for folder, key in CASES]
)
def test_template_matches_golden_copy(folder: Path, key: str) -> None:
    """Each stack's JSON equals its stored golden copy byte for byte."""
    stack: Stack = VARIANTS[folder][key]
    path = folder / f"{key}.json"
    text = stack.build().to_json() + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden copy {path}: run with UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, (
        f"{key} drifted from {path}; review the diff, then regenerate with UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("folder", list(VARIANTS), ids=lambda folder: folder.name)
def test_every_golden_copy_belongs_to_a_stack(folder: Path) -> None:
    """No golden file outlives its stack (a removed service leaves no stale template)."""
    if UPDATE:
        for stale in stored(folder) - set(VARIANTS[folder]):
            (folder / f"{stale}.json").unlink()
    assert stored(folder) == set(VARIANTS[folder])


def test_dynamodb_switch_changes_only_storage_and_stateful_stacks() -> None:
    """storage="dynamodb" adds the storage stack and changes the stateful services' stacks;
    every other template is byte-identical to the SQLite one."""
    stateful = {f"svc-{spec.name}" for spec in StackConfig().manifest.services if spec.stateful}
    assert set(DYNAMODB) == {"storage", *stateful}


def test_defaults_spelled_out_leave_every_template_byte_identical() -> None:
    """No secrets and tracing off, stated explicitly, yield the default templates exactly."""
    explicit = StackConfig(tracing=False, secrets={}, secrets_kms_keys=())
    assert {s.key: s.build().to_json() for s in deploy_order(explicit)} == {
        key: stack.build().to_json() for key, stack in DEFAULT.items()
    }
