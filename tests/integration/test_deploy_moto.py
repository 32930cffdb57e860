"""The deploy flow (change sets, waiters, events, outputs, failures, destroy) against a real
local moto server. moto's CloudFormation creates ECR repositories, SSM parameters and the
like but not Cloud Map namespaces or any AWS::VpcLattice resource, so the flow runs on the
real registry stack plus small synthetic templates that stand in for the rest."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from rich.console import Console

from cloudformation.config import StackConfig
from cloudformation.deploy.__main__ import main
from cloudformation.deploy.aws import DeployError, lattice_prefix_lists
from cloudformation.deploy.display import Reporter
from cloudformation.deploy.images import missing_images
from cloudformation.deploy.run import deploy, destroy, spec_for
from cloudformation.deploy.stack import Outcome, StackSpec, Waiting
from cloudformation.registry import build_registry
from cloudformation.storage import build_storage
from tests.moto_aws import local_moto

REGION = "eu-west-1"
FAST = Waiting(delay_s=1, max_attempts=3)
IMAGE_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {},
        "layers": [],
    }
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server of this module's own: the tests count its stacks and repositories."""
    with local_moto() as url:
        yield url


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def captured() -> tuple[Reporter, io.StringIO]:
    out = io.StringIO()
    return Reporter(Console(file=out, width=200, highlight=False)), out


def app_template(greeting_default: str = "hello") -> dict[str, Any]:
    """Stands in for a service stack: one resource named after the environment, one parameter."""
    return {
        "Parameters": {
            "EnvironmentName": {"Type": "String"},
            "Greeting": {"Type": "String", "Default": greeting_default},
        },
        "Resources": {
            "Setting": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": {"Fn::Sub": "/${EnvironmentName}/greeting"},
                    "Type": "String",
                    "Value": {"Fn::Sub": "${Greeting}"},
                },
            }
        },
        "Outputs": {"GreetingParameter": {"Value": {"Ref": "Setting"}}},
    }


def namespace_template() -> dict[str, Any]:
    """A resource moto's CloudFormation cannot create, read through GetAtt: moto rejects it."""
    return {
        "Parameters": {"EnvironmentName": {"Type": "String"}},
        "Resources": {
            "ServiceConnectNamespace": {
                "Type": "AWS::ServiceDiscovery::HttpNamespace",
                "Properties": {"Name": {"Fn::Sub": "${EnvironmentName}.local"}},
            },
            "NamespaceSetting": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Value": {"Fn::GetAtt": ["ServiceConnectNamespace", "Arn"]},
                },
            },
        },
    }


def plan(environment: str, *, greeting: str = "hello") -> list[StackSpec]:
    values = {"EnvironmentName": environment, "Greeting": greeting}
    return [
        spec_for("registry", build_registry(StackConfig()).to_dict(), environment, values),
        spec_for("app", app_template(), environment, values),
    ]


def test_deploy_creates_every_stack_through_change_sets(endpoint: str) -> None:
    """A first deploy creates each stack through a change set, showing its resource actions."""
    reporter, out = captured()
    result = deploy(client(endpoint, "cloudformation"), plan("create"), reporter, waiting=FAST)
    assert result.outcomes == {"create-registry": Outcome.CREATED, "create-app": Outcome.CREATED}
    # moto keeps no outputs for stacks made through change sets, so none are checked here.
    assert "Add     CatalogRepository (AWS::ECR::Repository)" in out.getvalue()
    assert "CREATE_COMPLETE" in out.getvalue()  # a stack event shown as it arrived


def test_redeploy_without_changes_succeeds_and_leaves_no_change_set(endpoint: str) -> None:
    """Deploying the same templates again is a success and deletes the empty change sets."""
    cfn = client(endpoint, "cloudformation")
    deploy(cfn, plan("same"), captured()[0], waiting=FAST)
    reporter, out = captured()
    result = deploy(cfn, plan("same"), reporter, waiting=FAST)
    assert set(result.outcomes.values()) == {Outcome.UNCHANGED}
    for name in ("same-registry", "same-app"):
        summaries = cfn.list_change_sets(StackName=name)["Summaries"]
        left = [c for c in summaries if c["StackName"] == name and c["Status"] != "CREATE_COMPLETE"]
        assert left == []  # no FAILED (empty) change set kept
    assert "same-app: no changes" in out.getvalue()


def test_parameter_change_updates_the_stack(endpoint: str) -> None:
    """A changed parameter value updates that stack only, to UPDATE_COMPLETE."""
    cfn = client(endpoint, "cloudformation")
    deploy(cfn, plan("change"), captured()[0], waiting=FAST)
    result = deploy(cfn, plan("change", greeting="bonjour"), captured()[0], waiting=FAST)
    assert result.outcomes == {"change-registry": Outcome.UNCHANGED, "change-app": Outcome.UPDATED}
    assert cfn.describe_stacks(StackName="change-app")["Stacks"][0]["StackStatus"] == (
        "UPDATE_COMPLETE"
    )
    parameters = cfn.describe_stacks(StackName="change-app")["Stacks"][0]["Parameters"]
    assert {"ParameterKey": "Greeting", "ParameterValue": "bonjour"} in parameters


@pytest.mark.filterwarnings("ignore:Tried to parse AWS::ServiceDiscovery")
def test_failed_create_names_the_resource_and_deletes_the_stack(endpoint: str) -> None:
    """A stack moto cannot create fails the deploy naming the resource; the stack is gone."""
    cfn = client(endpoint, "cloudformation")
    specs = [
        *plan("broken"),
        spec_for("mesh", namespace_template(), "broken", {"EnvironmentName": "broken"}),
    ]
    reporter, out = captured()
    with pytest.raises(DeployError, match=r"broken-mesh: create failed: .*ServiceConnectNamespace"):
        deploy(cfn, specs, reporter, waiting=FAST)
    assert "broken-mesh: deleting the failed stack" in out.getvalue()
    live = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]} - {
        s["StackName"]
        for s in cfn.describe_stacks()["Stacks"]
        if s["StackStatus"] == "DELETE_COMPLETE"
    }
    assert "broken-mesh" not in live
    assert {"broken-registry", "broken-app"} <= live


def test_dry_run_prints_change_sets_and_creates_nothing(endpoint: str) -> None:
    """DRY_RUN lists each resource action and leaves neither stacks nor change sets."""
    cfn = client(endpoint, "cloudformation")
    reporter, out = captured()
    result = deploy(cfn, plan("dry")[:1], reporter, dry_run=True, waiting=FAST)
    assert result.outcomes == {"dry-registry": Outcome.PLANNED}
    assert "Add     OrdersRepository (AWS::ECR::Repository)" in out.getvalue()
    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert statuses.get("dry-registry") in (None, "DELETE_COMPLETE")


def test_dry_run_on_a_fresh_environment_stops_where_imports_do_not_exist_yet(
    endpoint: str,
) -> None:
    """A stack importing from one the dry run only planned is not planned (its change set
    would fail on the missing export): the run says so and lists what it skipped; once
    that stack exists, the same dry run plans everything."""
    cfn = client(endpoint, "cloudformation")
    registry, app = plan("fresh")
    ordered = [registry, replace(app, after=("registry",))]
    reporter, out = captured()

    result = deploy(cfn, ordered, reporter, dry_run=True, waiting=FAST)

    assert result.outcomes == {"fresh-registry": Outcome.PLANNED}
    assert result.not_planned == ("fresh-app",)
    assert "dry run stops at fresh-app: it imports from registry" in out.getvalue()
    deploy(cfn, [registry], captured()[0], waiting=FAST)
    again = deploy(cfn, ordered, captured()[0], dry_run=True, waiting=FAST)
    assert again.outcomes == {"fresh-registry": Outcome.UNCHANGED, "fresh-app": Outcome.PLANNED}
    assert again.not_planned == ()


def test_destroy_empties_ecr_then_deletes_every_stack(endpoint: str) -> None:
    """Destroy empties the repositories, deletes stacks newest first, and says what was gone."""
    cfn, ecr = client(endpoint, "cloudformation"), client(endpoint, "ecr")
    deploy(cfn, plan("gone"), captured()[0], waiting=FAST)
    resources = cfn.describe_stack_resources(StackName="gone-registry")["StackResources"]
    repository = next(
        r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "CatalogRepository"
    )
    ecr.put_image(repositoryName=repository, imageManifest=IMAGE_MANIFEST, imageTag="v1")
    reporter, out = captured()
    names = ["gone-registry", "gone-app", "gone-never-deployed"]
    assert destroy(cfn, ecr, names, reporter, waiting=FAST) == ["gone-never-deployed"]
    text = out.getvalue()
    assert f"emptied ECR repository {repository} (1 image(s))" in text
    assert text.index("gone-app: deleted") < text.index("gone-registry: deleted")
    assert repository not in {
        r["repositoryName"] for r in ecr.describe_repositories()["repositories"]
    }


def test_destroy_keeps_the_tables_unless_told_to_drop_the_data(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """With DynamoDB storage, ``make destroy`` deletes the other stacks and keeps the
    storage stack with its (deletion-protected) tables; DROP_DATA=1 turns the protection
    off on each table and then deletes the stack and the tables."""
    config = StackConfig(storage="dynamodb")
    values = {"EnvironmentName": "keep"}
    storage = spec_for("storage", build_storage(config).to_dict(), "keep", values)
    cfn, dynamodb = client(endpoint, "cloudformation"), client(endpoint, "dynamodb")
    deploy(cfn, [storage], captured()[0], waiting=FAST)
    tables = {"keep-inventory", "keep-payments", "keep-orders"}
    assert tables <= set(dynamodb.list_tables()["TableNames"])
    command = ["destroy", "--environment", "keep", "--storage", "dynamodb", "--yes"]
    command += ["--endpoint-url", endpoint, "--region", REGION]

    assert main(command) == 0
    assert "kept keep-storage: its DynamoDB tables hold" in capsys.readouterr().out
    assert tables <= set(dynamodb.list_tables()["TableNames"])

    assert main([*command, "--drop-data"]) == 0
    out = capsys.readouterr().out
    assert "keep-storage: deletion protection off for table keep-orders" in out
    assert "keep-storage: deleted" in out
    assert not tables & set(dynamodb.list_tables()["TableNames"])


def test_only_images_missing_from_ecr_are_built(endpoint: str) -> None:
    """The repositories are immutable, so a tag is pushed once: deploying a commit again
    builds only what ECR lacks (here: one repository of two already has the tag)."""
    ecr = client(endpoint, "ecr")
    uris = {}
    for name in ("catalog", "orders"):
        created = ecr.create_repository(repositoryName=f"imgs-{name}")["repository"]
        uris[name] = created["repositoryUri"]
    ecr.put_image(repositoryName="imgs-catalog", imageManifest=IMAGE_MANIFEST, imageTag="abc123")

    assert missing_images(ecr, uris, "abc123") == {"orders": uris["orders"]}
    assert missing_images(ecr, uris, "other") == uris


def test_prefix_lists_are_looked_up_by_name(endpoint: str) -> None:
    """The Lattice prefix lists (IPv4, IPv6) of the region are found by their AWS names."""
    ipv4, ipv6 = lattice_prefix_lists(client(endpoint, "ec2"), REGION)
    assert ipv4.startswith("pl-")
    assert ipv6.startswith("pl-")
    assert ipv4 != ipv6


def test_missing_credentials_stop_with_one_line(
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    """Without credentials the deploy stops before any AWS call with a one-line message."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["deploy", "--region", REGION, "--endpoint-url", endpoint, "--skip-images"])
    assert code == 1
    assert capsys.readouterr().out.strip().startswith("error: no AWS credentials")
