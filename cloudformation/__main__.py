"""``python -m cloudformation synth --out DIR [--manifest FILE] [--egress nat] [--azs 3]
[--storage dynamodb] [--tracing] [--secrets FILE] [--no-operator]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudformation.config import (
    ADMIN_KEYS_VARIABLE,
    STORAGES,
    CfnConfigError,
    StackConfig,
    validate,
)
from cloudformation.secrets import load_secrets
from cloudformation.synth import synth
from meshkit.manifest import DEFAULT_MANIFEST, GATEWAY_NAME, ManifestError, load_manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line, writes the templates, prints where they went."""
    parser = argparse.ArgumentParser(prog="python -m cloudformation")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("synth", help="write every stack as JSON and YAML")
    command.add_argument("--out", type=Path, default=Path("build/cloudformation"))
    command.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    command.add_argument("--nat-per-az", action="store_true")
    command.add_argument("--azs", type=int, choices=(2, 3), default=2)
    add_template_arguments(command)
    args = parser.parse_args(argv)
    try:
        config = template_config(
            args,
            manifest=load_manifest(args.manifest),
            nat_per_az=args.nat_per_az,
            availability_zones=args.azs,
        )
        paths = synth(config, args.out)
    except (CfnConfigError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} files to {args.out}")
    for path in paths:
        print(f"  {path}")
    return 0


def template_config(args: argparse.Namespace, **more: Any) -> StackConfig:
    """The StackConfig of the template choices ``synth`` and ``deploy`` share (destroy
    must know them too, to know which stacks exist), plus ``more``; validated."""
    secrets, keys = load_secrets(args.secrets) if args.secrets else ({}, ())
    if args.admin_api_keys:
        gateway = {**secrets.get(GATEWAY_NAME, {}), ADMIN_KEYS_VARIABLE: args.admin_api_keys}
        secrets = {**secrets, GATEWAY_NAME: gateway}
    return validate(
        StackConfig(
            egress=args.egress,
            storage=args.storage,
            tracing=args.tracing,
            secrets=secrets,
            secrets_kms_keys=keys,
            operator=not args.no_operator,
            edge_admin=bool(args.admin_api_keys),
            impl=args.impl,
            **more,
        )
    )


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """``--egress``, ``--storage``, ``--tracing``, ``--secrets FILE``, ``--admin-api-keys``
    and ``--no-operator``, shared with ``cloudformation.deploy``."""
    parser.add_argument("--egress", choices=("endpoints", "nat"), default="endpoints")
    parser.add_argument(
        "--storage",
        choices=STORAGES,
        default="sqlite",
        help="where stateful services keep data on AWS (dynamodb adds the storage stack)",
    )
    parser.add_argument(
        "--impl",
        default="",
        metavar="CHOICE",
        help="which implementation each service runs: the manifest's by default, or go,"
        " or pricing=go,inventory=go (its image is built from that implementation)",
    )
    parser.add_argument(
        "--admin-api-keys",
        default="",
        metavar="SOURCE",
        help="route the admin RPCs at the edge, behind the API keys in this SSM parameter"
        " or Secrets Manager secret (client:secret entries)",
    )
    parser.add_argument(
        "--no-operator",
        action="store_true",
        help="no operator stack (and no ECS Exec endpoint): no way in to Lattice from AWS",
    )
    parser.add_argument(
        "--tracing",
        action="store_true",
        help="ADOT collector sidecar in every task, traces to X-Ray (needs --egress nat)",
    )
    parser.add_argument(
        "--secrets",
        type=Path,
        help="TOML file: [secrets.<process>] VARIABLE = SSM parameter or secret ARN",
    )


if __name__ == "__main__":
    sys.exit(main())
