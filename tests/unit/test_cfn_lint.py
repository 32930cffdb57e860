"""cfn-lint (as a library) finds no error and no warning in any template."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint

from cloudformation import StackConfig, deploy_order

REGIONS = ["us-east-1", "eu-west-1"]
CONFIGS = {
    "default": StackConfig(),
    "nat-per-az-3az": StackConfig(egress="nat", nat_per_az=True, availability_zones=3),
}
CASES = [
    (name, stack.key, stack.build().to_json())
    for name, config in CONFIGS.items()
    for stack in deploy_order(config)
    if name == "default" or stack.key == "network"
]


@pytest.mark.parametrize(("config", "key", "text"), CASES, ids=[f"{c}-{k}" for c, k, _ in CASES])
def test_template_is_cfn_lint_clean(config: str, key: str, text: str) -> None:
    """cfn-lint reports nothing for the template in two regions."""
    matches = lint(text, regions=REGIONS)
    assert [str(m) for m in matches] == []


def test_cfn_lint_catches_a_broken_target_group() -> None:
    """The lint check can fail: a target group of an unknown type is reported."""
    service = next(s for s in deploy_order(StackConfig()) if s.key.startswith("svc-"))
    template = json.loads(service.build().to_json())
    template["Resources"]["LatticeTargetGroup"]["Properties"]["Type"] = "TASK"
    assert lint(json.dumps(template), regions=REGIONS)
