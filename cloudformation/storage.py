"""The storage stack: one DynamoDB table per stateful manifest service (``storage="dynamodb"``).

Tables live in their own stack, not in the services' stacks, so data outlives compute:
a service stack can be deleted and created again (a failed first deploy, a replaced
ECS service) without touching its table, and CloudFormation refuses to delete the
storage stack while a service stack still imports a table. Deletion protection is a
parameter (on by default); turn it off before ``make destroy`` is meant to drop data.

The key schema is generic, and it is the contract the storage adapters implement:

- ``pk`` (string, partition key): the aggregate, ``<entity>#<id>`` — ``order#<id>``,
  ``stock#<sku>``, ``payment#<id>``, ``idem#<key>``.
- ``sk`` (string, sort key): the item within it, ``<kind>`` or ``<kind>#<n>`` —
  ``meta``, ``line#0003``, ``event#00000042``.

One ``Query`` on ``pk`` reads a whole aggregate in ``sk`` order; conditional writes and
``TransactWriteItems`` give the atomicity SQLite transactions give locally. No secondary
index yet: an adapter that needs one adds it here (the task policy already covers the
table's indexes).
"""

from __future__ import annotations

from troposphere import (
    Equals,
    GetAtt,
    If,
    ImportValue,
    Parameter,
    Ref,
    Sub,
    Template,
    dynamodb,
    iam,
)

from cloudformation.config import CfnConfigError, StackConfig, validate
from cloudformation.names import Exports, add_environment, export, imported, logical_id, scoped
from meshkit.env import ENV_PREFIX
from meshkit.manifest import ServiceSpec

PARTITION_KEY = "pk"
SORT_KEY = "sk"
DELETION_PROTECTION = "TableDeletionProtection"
PROTECTED = "TablesAreDeletionProtected"
STORAGE_ENV = f"{ENV_PREFIX}STORAGE"
TABLE_ENV = f"{ENV_PREFIX}DYNAMODB_TABLE"
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
"""What an adapter may do to its own table. TransactWriteItems/TransactGetItems have no
IAM action of their own: each part is authorised as the item action it performs
(ConditionCheck as ConditionCheckItem). No Scan, no table administration."""


def uses_table(spec: ServiceSpec, config: StackConfig) -> bool:
    """True when ``spec`` keeps its data in a DynamoDB table of the storage stack."""
    return spec.stateful and config.storage == "dynamodb"


def stateful_services(config: StackConfig) -> tuple[ServiceSpec, ...]:
    """The manifest services that own a table."""
    return tuple(spec for spec in config.manifest.services if spec.stateful)


def build_storage(config: StackConfig) -> Template:
    """One on-demand, encrypted, point-in-time-recoverable table per stateful service."""
    validate(config)
    owners = stateful_services(config)
    if not owners:
        raise CfnConfigError("no stateful service in the manifest: there is no table to create")
    template = Template(Description=f"{config.manifest.name}: DynamoDB tables")
    add_environment(template, config.manifest.name)
    template.add_parameter(
        Parameter(
            DELETION_PROTECTION,
            Type="String",
            AllowedValues=["true", "false"],
            Default="true",
            Description="Refuse to delete the tables (set false before destroying the data)",
        )
    )
    template.add_condition(PROTECTED, Equals(Ref(DELETION_PROTECTION), "true"))
    for spec in owners:
        table = template.add_resource(_table(spec))
        export(
            template,
            Exports.table_name(spec.name),
            Ref(table),
            f"DynamoDB table of {spec.name}",
        )
        export(
            template,
            Exports.table_arn(spec.name),
            GetAtt(table, "Arn"),
            f"ARN of the DynamoDB table of {spec.name} (scopes its task role)",
        )
    return template


def _table(spec: ServiceSpec) -> dynamodb.Table:
    return dynamodb.Table(
        f"{logical_id(spec.name)}Table",
        # A fixed name also makes a replacing change fail instead of starting an empty table.
        TableName=scoped(spec.name),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            dynamodb.AttributeDefinition(AttributeName=PARTITION_KEY, AttributeType="S"),
            dynamodb.AttributeDefinition(AttributeName=SORT_KEY, AttributeType="S"),
        ],
        KeySchema=[
            dynamodb.KeySchema(AttributeName=PARTITION_KEY, KeyType="HASH"),
            dynamodb.KeySchema(AttributeName=SORT_KEY, KeyType="RANGE"),
        ],
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        ),
        # The AWS managed key (aws/dynamodb): key use shows in CloudTrail, and callers
        # need no KMS permission of their own.
        SSESpecification=dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS"),
        DeletionProtectionEnabled=If(PROTECTED, True, False),
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Retain",
    )


def table_environment(spec: ServiceSpec, config: StackConfig) -> dict[str, object]:
    """The container variables that select the DynamoDB adapter and name its table;
    none when the service keeps SQLite (so those templates stay as they were)."""
    if not uses_table(spec, config):
        return {}
    return {STORAGE_ENV: "dynamodb", TABLE_ENV: imported(Exports.table_name(spec.name))}


def table_policy(spec: ServiceSpec, config: StackConfig) -> iam.Policy | None:
    """The task role's access to exactly its own table and its indexes; None without one."""
    if not uses_table(spec, config):
        return None
    arn: ImportValue = imported(Exports.table_arn(spec.name))
    return iam.Policy(
        PolicyName="own-dynamodb-table",
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OwnTableOnly",
                    "Effect": "Allow",
                    "Action": list(TABLE_ACTIONS),
                    "Resource": [arn, Sub("${Table}/index/*", Table=arn)],
                }
            ],
        },
    )
