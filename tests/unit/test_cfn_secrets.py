"""Container secrets: SSM parameters and Secrets Manager secrets reach a container only as
``Secrets`` ARNs, the execution role reads exactly them, and no secret changes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, build_edge, build_network, build_service
from cloudformation.__main__ import main
from cloudformation.secrets import load_secrets

ACCOUNT = "123456789012"
PARAMETER = "/shopmesh/gateway/api-keys"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:shopmesh/psp-AbCdEf"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SSM_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
PARAMETER_ARN = f"{SSM_ARN}/shopmesh/gateway/api-keys"
BASE = StackConfig()
CONFIGURED = replace(
    BASE,
    secrets={
        "gateway": {"GATEWAY_API_KEYS": PARAMETER},
        "payments": {"SHOPMESH_PSP_TOKEN": f"{SECRET}:token::", "SHOPMESH_PSP_ID": "psp/id"},
    },
    secrets_kms_keys=(KEY,),
)


def resources(template: Any) -> dict[str, Any]:
    return json.loads(template.to_json())["Resources"]  # type: ignore[no-any-return]


def app_container(template: Any, name: str) -> dict[str, Any]:
    definitions = resources(template)["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return next(c for c in definitions if c["Name"] == name)


def execution_policies(template: Any) -> dict[str, Any]:
    role = resources(template)["ExecutionRole"]["Properties"]
    return {p["PolicyName"]: p["PolicyDocument"]["Statement"] for p in role["Policies"]}


def test_secret_is_a_secrets_entry_with_an_arn_never_an_environment_value() -> None:
    """GATEWAY_API_KEYS comes from its SSM parameter's ARN and is absent from Environment."""
    container = app_container(build_edge(CONFIGURED), "gateway")
    assert container["Secrets"] == [
        {"Name": "GATEWAY_API_KEYS", "ValueFrom": {"Fn::Sub": PARAMETER_ARN}}
    ]
    text = json.dumps(container["Environment"])
    assert "GATEWAY_API_KEYS" not in text
    assert PARAMETER not in text


def test_execution_role_reads_exactly_the_configured_sources() -> None:
    """payments' role reads its one parameter and its one secret (without ECS's json-key
    suffix), decrypts with the configured key only, and nothing is ``*``."""
    statements = execution_policies(build_service(CONFIGURED, CONFIGURED.service("payments")))
    assert statements["read-secrets"] == [
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": [{"Fn::Sub": f"{SSM_ARN}/psp/id"}],
        },
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [SECRET]},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": [KEY]},
    ]
    container = app_container(build_service(CONFIGURED, CONFIGURED.service("payments")), "payments")
    assert [s["ValueFrom"] for s in container["Secrets"]][1] == f"{SECRET}:token::"


def test_process_without_secrets_gets_no_secret_access() -> None:
    """catalog has no secrets: no Secrets, no read-secrets policy, no kms:Decrypt."""
    template = build_service(CONFIGURED, CONFIGURED.service("catalog"))
    assert "Secrets" not in app_container(template, "catalog")
    assert set(execution_policies(template)) == {"pull-image-write-logs"}
    assert template.to_json() == build_service(BASE, BASE.service("catalog")).to_json()


def test_secrets_manager_source_adds_its_vpc_endpoint_only_without_nat() -> None:
    """Tasks without NAT reach Secrets Manager through an endpoint, added only when needed."""

    def endpoints(config: StackConfig) -> set[str]:
        return {k for k, r in resources(build_network(config)).items() if k.endswith("Endpoint")}

    assert "SecretsmanagerEndpoint" in endpoints(CONFIGURED)
    assert "SecretsmanagerEndpoint" not in endpoints(BASE)
    only_ssm = replace(BASE, secrets={"gateway": {"GATEWAY_API_KEYS": PARAMETER}})
    assert build_network(only_ssm).to_json() == build_network(BASE).to_json()


@pytest.mark.parametrize(
    ("secrets", "keys", "message"),
    [
        ({"nosuch": {"A_B": PARAMETER}}, (), "no process"),
        ({"gateway": {"api_keys": PARAMETER}}, (), "UPPER_SNAKE"),
        ({"gateway": {"GATEWAY_API_KEYS": "s3://bucket/key"}}, (), "neither"),
        ({"gateway": {"GATEWAY_API_KEYS": "arn:aws:ssm:x"}}, (), "neither"),
        ({}, ("alias/mine",), "not a KMS key ARN"),
    ],
)
def test_invalid_secrets_are_refused_at_build_time(
    secrets: dict[str, dict[str, str]], keys: tuple[str, ...], message: str
) -> None:
    """Unknown processes, non-UPPER_SNAKE names, unknown sources and bad keys are refused."""
    with pytest.raises(CfnConfigError, match=message):
        build_edge(replace(BASE, secrets=secrets, secrets_kms_keys=keys))


@pytest.mark.parametrize(
    ("process", "variable"),
    [("gateway", "GATEWAY_PORT"), ("orders", "SHOPMESH_CATALOG_ADDR")],
)
def test_secret_may_not_shadow_a_variable_the_template_sets(process: str, variable: str) -> None:
    """A secret named like a templated variable is refused (one would silently win)."""
    config = replace(BASE, secrets={process: {variable: PARAMETER}})
    with pytest.raises(CfnConfigError, match="already set"):
        build_edge(config) if process == "gateway" else build_service(
            config, config.service(process)
        )


def test_secret_may_not_shadow_the_tracing_variables() -> None:
    """With tracing on, OTEL_* variables are the template's too."""
    config = replace(
        BASE, tracing=True, egress="nat", secrets={"gateway": {"OTEL_SERVICE_NAME": PARAMETER}}
    )
    with pytest.raises(CfnConfigError, match="OTEL_SERVICE_NAME"):
        build_edge(config)


def test_secrets_file_reaches_the_templates(tmp_path: Path) -> None:
    """``synth --secrets FILE`` (TOML) puts the secret in the gateway's task definition."""
    path = tmp_path / "secrets.toml"
    path.write_text(
        f'kms_keys = ["{KEY}"]\n[secrets.gateway]\nGATEWAY_API_KEYS = "{PARAMETER}"\n',
        encoding="utf-8",
    )
    assert load_secrets(path) == ({"gateway": {"GATEWAY_API_KEYS": PARAMETER}}, (KEY,))
    assert main(["synth", "--out", str(tmp_path / "out"), "--secrets", str(path)]) == 0
    edge = json.loads((tmp_path / "out" / "edge.json").read_text(encoding="utf-8"))
    assert "GATEWAY_API_KEYS" in json.dumps(edge["Resources"]["TaskDefinition"])


@pytest.mark.parametrize(
    "text",
    ["secrets = 3\n", 'kms_keys = "arn"\n', "[secrets.gateway]\nA = 1\n", "x = [\n", "y=1\n"],
)
def test_malformed_secrets_file_exits_2(tmp_path: Path, text: str) -> None:
    """A secrets file of the wrong shape is one error line and exit 2, no template."""
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["synth", "--out", str(tmp_path / "out"), "--secrets", str(path)]) == 2
    assert not (tmp_path / "out").exists()
