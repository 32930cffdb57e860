"""``make deploy``/``make destroy`` pass the same template choices as ``make synth``, so
destroy finds the stacks deploy made; the certificate reaches the edge stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudformation.config import CfnConfigError
from cloudformation.deploy import __main__ as deploy_main
from cloudformation.deploy.__main__ import _parser, stack_config, task_counts
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


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--environment", "svc-shop"], "environment 'svc-shop' starts with 'svc-'"),
        (["--environment", "internal-x"], "environment 'internal-x' starts with 'internal-'"),
        (["--environment", "Shop_1"], "environment 'Shop_1' must be"),
        (["--tasks", "orders=2"], "--tasks orders=2: orders runs as exactly one task"),
        (["--tasks", "payments=2"], "--tasks payments=2: payments runs as exactly one task"),
        (["--tasks", "billing=2"], "--tasks billing=2: no service 'billing'"),
        (["--tasks", "catalog=0"], "--tasks catalog=0: the count must be"),
    ],
)
def test_a_deploy_that_cannot_work_is_refused_before_any_aws_call(
    argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reserved environment prefixes and a single-task service asked to scale fail with one
    line naming the setting, before a client or a credential is even looked at."""

    def no_aws(*args: object, **kwargs: object) -> None:
        raise AssertionError("an AWS client was made")

    monkeypatch.setattr(deploy_main, "Aws", no_aws)
    assert deploy_main.main(["deploy", *argv]) == 1
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    assert named in out


def test_task_counts_set_each_stacks_parameters_and_scaling_ones_may_grow() -> None:
    """--tasks catalog=3 starts catalog with 3 and never fewer; with DynamoDB payments may
    scale too; a single task stays at one."""
    args = _parser().parse_args(["deploy", "--storage", "dynamodb"])
    config = stack_config(args)
    counts = task_counts(["catalog=3", "payments=12", "orders=1"], config)
    assert counts["svc-catalog"] == {"DesiredCount": "3", "MinCount": "3", "MaxCount": "10"}
    assert counts["svc-payments"] == {"DesiredCount": "12", "MinCount": "12", "MaxCount": "12"}
    assert counts["svc-orders"] == {"DesiredCount": "1", "MinCount": "1", "MaxCount": "1"}


def test_no_operator_and_the_balancer_log_bucket_reach_the_deploy() -> None:
    """--no-operator shapes the stack list (destroy agrees); the bucket is a parameter."""
    args = _parser().parse_args(["deploy", "--no-operator", "--alb-logs-bucket", "logs-1"])
    assert not stack_config(args).operator
    assert args.alb_logs_bucket == "logs-1"
    assert "operator" not in [stack.key for stack in deploy_order(stack_config(args))]
    assert stack_config(_parser().parse_args(["destroy"])).operator


def test_the_deploy_code_names_no_partition() -> None:
    """No 'arn:aws:' literal in the deploy code: principals default to what the templates
    build with AWS::Partition, so GovCloud and China work the same."""
    source = Path(deploy_main.__file__).parent
    for path in source.glob("*.py"):
        assert "arn:aws:" not in path.read_text(), path
    assert _parser().parse_args(["deploy"]).principals is None
