"""``make deploy``/``make destroy`` pass the same template choices as ``make synth``, so
destroy finds the stacks deploy made; the certificate reaches the edge stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudformation.config import CfnConfigError
from cloudformation.deploy.__main__ import _parser, stack_config
from cloudformation.plan import deploy_order


def test_storage_and_egress_choices_shape_the_stack_list() -> None:
    """With DynamoDB the storage stack is deployed (and destroyed); NAT is the egress."""
    args = _parser().parse_args(["destroy", "--storage", "dynamodb", "--egress", "nat"])
    config = stack_config(args)
    assert (config.storage, config.egress) == ("dynamodb", "nat")
    keys = [stack.key for stack in deploy_order(config)]
    assert "storage" in keys
    default = [stack.key for stack in deploy_order(stack_config(_parser().parse_args(["deploy"])))]
    assert "storage" not in default


def test_certificate_defaults_to_none_given_and_bad_choices_exit_2() -> None:
    """No certificate means plain HTTP at the edge; an unknown storage is refused."""
    assert _parser().parse_args(["deploy"]).certificate_arn == ""
    given = _parser().parse_args(["deploy", "--certificate-arn", "arn:aws:acm:eu-west-1:1:c/x"])
    assert given.certificate_arn.startswith("arn:aws:acm:")
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args(["deploy", "--storage", "redis"])
    assert caught.value.code == 2


def test_tracing_and_secrets_reach_the_stack_config(tmp_path: Path) -> None:
    """--tracing and --secrets FILE shape deploy's (and destroy's) templates like synth's."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[secrets.gateway]\nGATEWAY_API_KEYS = "/shopmesh/gateway/api-keys"\n', encoding="utf-8"
    )
    args = _parser().parse_args(
        ["deploy", "--egress", "nat", "--tracing", "--secrets", str(secrets)]
    )
    config = stack_config(args)
    assert config.tracing
    assert config.secrets == {"gateway": {"GATEWAY_API_KEYS": "/shopmesh/gateway/api-keys"}}
    default = stack_config(_parser().parse_args(["deploy"]))
    assert (default.tracing, default.secrets) == (False, {})


def test_tracing_without_nat_is_refused_before_any_aws_call() -> None:
    """Tracing needs NAT egress; the config error comes from stack_config itself."""
    with pytest.raises(CfnConfigError, match="egress='nat'"):
        stack_config(_parser().parse_args(["deploy", "--tracing"]))
