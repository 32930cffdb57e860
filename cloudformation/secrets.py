"""Container secrets from SSM Parameter Store and Secrets Manager.

``StackConfig.secrets`` maps a process to variables and their sources. ECS resolves each
source when it starts a task and hands the value to the container as that variable, so
a secret is a ``Secrets`` entry (``ValueFrom``: an ARN) and never an ``Environment``
value. The execution role (ECS's, not the app's) may read exactly the configured
parameters and secrets, and decrypt with a customer managed key only when one is named.

The file ``python -m cloudformation synth --secrets FILE`` reads is TOML::

    kms_keys = ["arn:aws:kms:eu-west-1:123456789012:key/..."]  # optional

    [secrets.gateway]
    GATEWAY_API_KEYS = "/shopmesh/gateway/api-keys"           # an SSM SecureString
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from troposphere import Sub, ecs, iam

from cloudformation.config import CfnConfigError, StackConfig

SSM_READ = "ssm:GetParameters"
SECRET_READ = "secretsmanager:GetSecretValue"  # noqa: S105 (an IAM action, not a password)
KEY_DECRYPT = "kms:Decrypt"
SECRET_ARN_FIELDS = 7
"""``arn:partition:secretsmanager:region:account:secret:name-suffix``; ECS may append
``:json-key:version-stage:version-id``, which IAM does not know."""

Secrets = dict[str, dict[str, str]]


def load_secrets(path: Path) -> tuple[Secrets, tuple[str, ...]]:
    """The ``[secrets.<process>]`` tables and ``kms_keys`` of a TOML file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CfnConfigError(f"secrets file {path}: {exc}") from None
    unknown = set(raw) - {"secrets", "kms_keys"}
    if unknown:
        raise CfnConfigError(f"secrets file {path}: unknown keys {sorted(unknown)}")
    tables: Any = raw.get("secrets", {})
    keys: Any = raw.get("kms_keys", [])
    if not _is_table_of_tables(tables) or not (isinstance(keys, list) and _is_strings(keys)):
        raise CfnConfigError(
            f'secrets file {path}: want [secrets.<process>] tables of VARIABLE = "source"'
            ' and kms_keys = ["arn:..."]'
        )
    return {process: dict(variables) for process, variables in tables.items()}, tuple(keys)


def _is_table_of_tables(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(table, dict) and _is_strings(table.values()) for table in value.values()
    )


def _is_strings(values: Collection[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


def in_secrets_manager(source: str) -> bool:
    """True for a Secrets Manager ARN; anything else names an SSM parameter."""
    return source.startswith("arn:") and source.split(":")[2] == "secretsmanager"


def value_from(source: str) -> str | Sub:
    """The ARN ECS reads ``source`` from (an SSM name becomes this account's ARN)."""
    if source.startswith("arn:"):
        return source
    name = source if source.startswith("/") else f"/{source}"
    return Sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{name}")


def container_secrets(
    process: str, config: StackConfig, environment: Collection[str]
) -> list[ecs.Secret]:
    """``process``'s secrets, sorted by variable; CfnConfigError when a variable is also
    one the template sets in ``environment`` (one of the two would silently win)."""
    variables = config.secrets.get(process, {})
    clash = sorted(set(variables) & set(environment))
    if clash:
        raise CfnConfigError(
            f"{process}: secret variables {clash} are already set by the template's environment"
        )
    return [
        ecs.Secret(Name=name, ValueFrom=value_from(source))
        for name, source in sorted(variables.items())
    ]


def secrets_policy(process: str, config: StackConfig) -> list[iam.Policy]:
    """The execution role's read access to exactly ``process``'s secrets; [] without."""
    statements = _statements(process, config)
    if not statements:
        return []
    return [
        iam.Policy(
            PolicyName="read-secrets",
            PolicyDocument={"Version": "2012-10-17", "Statement": statements},
        )
    ]


def _statements(process: str, config: StackConfig) -> list[dict[str, object]]:
    sources = config.secrets.get(process, {}).values()
    parameters = {_ssm_name(s): s for s in sources if not in_secrets_manager(s)}
    secrets = {":".join(s.split(":")[:SECRET_ARN_FIELDS]) for s in sources} - {*parameters.values()}
    statements: list[dict[str, object]] = []
    for action, resources in (
        (SSM_READ, [value_from(parameters[name]) for name in sorted(parameters)]),
        (SECRET_READ, sorted(s for s in secrets if in_secrets_manager(s))),
        (KEY_DECRYPT, list(config.secrets_kms_keys) if sources else []),
    ):
        if resources:
            statements.append({"Effect": "Allow", "Action": action, "Resource": resources})
    return statements


def _ssm_name(source: str) -> str:
    """``name`` and ``/name`` are the same parameter: one key for both."""
    return source if source.startswith(("arn:", "/")) else f"/{source}"


def needs_secrets_manager(config: StackConfig) -> bool:
    """True when some process reads a Secrets Manager secret (the network stack then
    adds its VPC endpoint, since tasks without NAT could not reach it)."""
    return any(
        in_secrets_manager(source)
        for variables in config.secrets.values()
        for source in variables.values()
    )
