"""``python -m cloudformation.deploy deploy|destroy`` (``make deploy`` / ``make destroy``).

Environment variables are read here only (by the Makefile, which passes flags)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cloudformation.__main__ import add_template_arguments, template_config
from cloudformation.config import CfnConfigError, StackConfig, check_environment_name
from cloudformation.deploy.aws import Aws, DeployError, lattice_prefix_lists
from cloudformation.deploy.commands import curl_commands, lattice_commands
from cloudformation.deploy.display import Reporter
from cloudformation.deploy.images import build_and_push
from cloudformation.deploy.run import DEFAULT_WAITING, deploy, destroy, spec_for, unprotect
from cloudformation.deploy.stack import StackSpec
from cloudformation.fargate import DESIRED, MAX, MIN, SCALING_DEFAULTS, runs_single_task
from cloudformation.names import REGISTRY, STORAGE, Exports, service_stack, stack_name
from cloudformation.plan import check_imports, deploy_order
from cloudformation.registry import image_names

DEFAULT_ENVIRONMENT = "shopmesh"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    reporter = Reporter()
    try:
        # Everything that can be refused without AWS is refused before the first call.
        config = stack_config(args)
        counts = task_counts(args.tasks, config)
        plan = deploy_order(config)
        bodies = {stack.key: stack.build().to_dict() for stack in plan}
        check_imports(plan, bodies)
        aws = Aws(args.region, args.endpoint_url)
        identity = aws.identity()
        reporter.say(f"account {identity.account} as {identity.arn}, region {identity.region}")
        if args.command == "destroy":
            return _destroy(aws, config, args, reporter)
        return _deploy(aws, config, bodies, counts, args, reporter, identity.region)
    except (DeployError, CfnConfigError) as exc:
        reporter.failure(f"error: {exc}")
        return 1


def _deploy(
    aws: Aws,
    config: StackConfig,
    bodies: Mapping[str, Mapping[str, Any]],
    counts: Mapping[str, Mapping[str, str]],
    args: argparse.Namespace,
    reporter: Reporter,
    region: str,
) -> int:
    ipv4, ipv6 = args.prefix_lists or lattice_prefix_lists(aws.client("ec2"), region)
    values = {
        "EnvironmentName": args.environment,
        "LatticePrefixListIdIpv4": ipv4,
        "LatticePrefixListIdIpv6": ipv6,
        # Empty: the templates name this account themselves, in its own partition.
        "LatticeConsumerPrincipals": args.principals or "",
        "ImageTag": args.image_tag or _git_tag(reporter),
        "CertificateArn": args.certificate_arn,
        "AccessLogsBucket": args.alb_logs_bucket,
    }
    specs = [
        spec_for(
            stack.key,
            bodies[stack.key],
            args.environment,
            {**values, **counts.get(stack.key, {})},
            stack.after,
        )
        for stack in deploy_order(config)
    ]

    def push_images(spec: StackSpec, outputs: Mapping[str, str]) -> None:
        if spec.key != REGISTRY or args.skip_images:
            return
        names = image_names(config)
        missing = [n for n in names if Exports.repository_uri(n) not in outputs]
        if missing:  # pushing some images and not others would leave tasks unable to start
            raise DeployError(f"the registry stack has no repository output for {missing}")
        repositories = {n: outputs[Exports.repository_uri(n)] for n in names}
        build_and_push(
            aws.client("ecr"),
            repositories,
            values["ImageTag"],
            config.architecture,
            reporter,
            config.implementations,
        )

    if args.skip_images:
        reporter.say("skipping image build and push (SKIP_IMAGES=1)")
    result = deploy(
        aws.client("cloudformation"), specs, reporter, dry_run=args.dry_run, after_stack=push_images
    )
    if not args.dry_run:
        for key, value in sorted(result.outputs.items()):
            reporter.say(f"{key} = {value}")
        for line in lattice_commands(config.manifest.services, result.outputs, region):
            reporter.say(line)
        for line in curl_commands(result.outputs):
            reporter.say(line)
    return 0


def _destroy(aws: Aws, config: StackConfig, args: argparse.Namespace, reporter: Reporter) -> int:
    plan = deploy_order(config)
    names = [stack_name(args.environment, stack.key) for stack in plan]
    storage = next((stack for stack in plan if stack.key == STORAGE), None)
    kept = ""
    if storage is not None and not args.drop_data:
        # The tables are deletion-protected: deleting their stack would fail half-way.
        kept = stack_name(args.environment, STORAGE)
        names.remove(kept)
    if not args.yes:
        what = "images included" + (", DynamoDB tables and their data too" if storage else "")
        if kept:
            what = f"images included; {kept} and its tables are kept"
        answer = input(f"Delete {len(names)} stacks of {args.environment!r}, {what}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            reporter.say("nothing deleted")
            return 1
    cfn = aws.client("cloudformation")
    if storage is not None and not kept:
        name = stack_name(args.environment, STORAGE)
        unprotect(cfn, aws.client("dynamodb"), name, reporter, waiting=DEFAULT_WAITING)
    destroy(cfn, aws.client("ecr"), names, reporter)
    if kept:
        reporter.say(
            f"kept {kept}: its DynamoDB tables hold the services' data (deletion-protected);"
            " DROP_DATA=1 deletes them too"
        )
    return 0


def stack_config(args: argparse.Namespace) -> StackConfig:
    """The templates' settings from the command line (the same choices as ``synth``);
    ``destroy`` needs them too, to know which stacks exist. The environment name is
    checked here, before any AWS call."""
    check_environment_name(args.environment)
    return template_config(args)


def task_counts(wanted: Sequence[str], config: StackConfig) -> dict[str, dict[str, str]]:
    """``SERVICE=N`` choices as each service stack's task-count parameters (N tasks to
    start with and at least, and at most max(N, its default)); CfnConfigError naming the
    choice when the service is unknown, N is not a positive whole number, or the service
    must run as one task."""
    counts: dict[str, dict[str, str]] = {}
    for choice in wanted:
        name, _, raw = choice.partition("=")
        try:
            spec = config.service(name.strip())
        except CfnConfigError:
            raise CfnConfigError(f"--tasks {choice}: no service {name!r} in the manifest") from None
        if not raw.strip().isdigit() or int(raw) < 1:
            raise CfnConfigError(f"--tasks {choice}: the count must be a whole number >= 1")
        count = int(raw)
        if count > 1 and runs_single_task(spec, config):
            why = "manifest single_task" if spec.single_task else f"{config.storage} storage"
            raise CfnConfigError(
                f"--tasks {choice}: {spec.name} runs as exactly one task ({why}); it cannot scale"
            )
        high = max(count, SCALING_DEFAULTS[1])
        counts[service_stack(spec.name)] = {
            DESIRED: str(count),
            MIN: str(count),
            MAX: str(1 if runs_single_task(spec, config) else high),
        }
    return counts


def _git_tag(reporter: Reporter) -> str:
    """The commit, so an image says what it was built from; with uncommitted changes the
    commit plus "-dirty-" and the UTC time, so such a build never takes a clean tag."""
    done = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise DeployError("not in a git checkout: pass --image-tag")
    tag = done.stdout.strip()
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if changes.stdout.strip():
        tag += "-dirty-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        reporter.say(f"uncommitted changes: images tagged {tag}")
    return tag


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cloudformation.deploy")
    parser.add_argument("command", choices=("deploy", "destroy"))
    parser.add_argument("--environment", default=DEFAULT_ENVIRONMENT)
    parser.add_argument("--region", help="default: the AWS profile's region")
    parser.add_argument("--endpoint-url", help="another AWS endpoint (a local moto server)")
    parser.add_argument("--dry-run", action="store_true", help="print change sets only")
    parser.add_argument("--skip-images", action="store_true", help="no docker build/push")
    parser.add_argument("--image-tag", help="default: the git commit")
    parser.add_argument("--principals", help="Lattice consumer principals (default: account)")
    parser.add_argument("--prefix-lists", nargs=2, metavar=("IPV4", "IPV6"))
    parser.add_argument("--yes", action="store_true", help="destroy without asking")
    parser.add_argument(
        "--drop-data",
        action="store_true",
        help="destroy the DynamoDB tables too (turns their deletion protection off first)",
    )
    parser.add_argument(
        "--certificate-arn", default="", help="ACM certificate for the edge's HTTPS listener"
    )
    parser.add_argument(
        "--tasks",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="start SERVICE with N tasks (and never fewer); repeatable",
    )
    parser.add_argument(
        "--alb-logs-bucket", default="", help="S3 bucket for the edge load balancer's access logs"
    )
    add_template_arguments(parser)
    return parser


if __name__ == "__main__":
    sys.exit(main())
