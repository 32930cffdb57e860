"""cfn-lint (as a library) finds no error and no warning in any template."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint

from cloudformation import StackConfig, deploy_order

REGIONS = ["us-east-1", "eu-west-1"]
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shopmesh/psp-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STATEFUL = {f"svc-{spec.name}" for spec in StackConfig().manifest.services if spec.stateful}
CONFIGS = {
    # configuration → the stacks it changes (None: all of them)
    "default": (StackConfig(), None),
    "nat-per-az-3az": (
        StackConfig(egress="nat", nat_per_az=True, availability_zones=3),
        {"network"},
    ),
    "dynamodb": (StackConfig(storage="dynamodb"), {"storage", *STATEFUL}),
    "tracing-secrets": (
        StackConfig(
            egress="nat",
            tracing=True,
            secrets={
                "gateway": {"GATEWAY_API_KEYS": "/shopmesh/gateway/api-keys"},
                "payments": {"SHOPMESH_PSP_TOKEN": SECRET},
            },
            secrets_kms_keys=(KEY,),
        ),
        {"svc-payments", "svc-catalog", "edge"},
    ),
    "secrets-manager-endpoint": (
        StackConfig(secrets={"payments": {"SHOPMESH_PSP_TOKEN": SECRET}}),
        {"network"},
    ),
}
CASES = [
    (name, stack.key, stack.build().to_json())
    for name, (config, changed) in CONFIGS.items()
    for stack in deploy_order(config)
    if changed is None or stack.key in changed
]


@pytest.mark.parametrize(("config", "key", "text"), CASES, ids=[f"{c}-{k}" for c, k, _ in CASES])
def test_template_is_cfn_lint_clean(config: str, key: str, text: str) -> None:
    """cfn-lint reports nothing for the template in two regions."""
    matches = lint(text, regions=REGIONS)
    assert [str(m) for m in matches] == []


def test_every_stack_of_every_storage_mode_is_linted() -> None:
    """Both storage modes: every stack of the mesh, the storage stack included, is linted."""
    linted = {key for _, key, _ in CASES}
    assert {stack.key for stack in deploy_order(StackConfig(storage="dynamodb"))} <= linted
    assert {"edge", "storage"} <= linted


@pytest.mark.parametrize(
    ("key", "resource", "change"),
    [
        ("svc-catalog", "LatticeTargetGroup", {"Type": "TASK"}),
        ("edge", "TargetGroup", {"TargetType": "task"}),
    ],
)
def test_cfn_lint_catches_a_broken_target_group(
    key: str, resource: str, change: dict[str, str]
) -> None:
    """The lint check can fail: a target group of an unknown type is reported."""
    stack = next(s for s in deploy_order(StackConfig()) if s.key == key)
    template = json.loads(stack.build().to_json())
    template["Resources"][resource]["Properties"].update(change)
    assert lint(json.dumps(template), regions=REGIONS)
