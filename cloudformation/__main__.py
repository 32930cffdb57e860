"""``python -m cloudformation synth --out DIR [--manifest FILE] [--egress nat] [--azs 3]
[--storage dynamodb] [--tracing] [--secrets FILE] [--no-operator]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudformation.config import STORAGES, CfnConfigError, StackConfig
from cloudformation.secrets import load_secrets
from cloudformation.synth import synth
from meshkit.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line, writes the templates, prints where they went."""
    parser = argparse.ArgumentParser(prog="python -m cloudformation")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("synth", help="write every stack as JSON and YAML")
    command.add_argument("--out", type=Path, default=Path("build/cloudformation"))
    command.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    command.add_argument("--egress", choices=("endpoints", "nat"), default="endpoints")
    command.add_argument("--nat-per-az", action="store_true")
    command.add_argument("--azs", type=int, choices=(2, 3), default=2)
    command.add_argument(
        "--storage",
        choices=STORAGES,
        default="sqlite",
        help="where stateful services keep data on AWS (dynamodb adds the storage stack)",
    )
    add_template_arguments(command)
    args = parser.parse_args(argv)
    try:
        secrets, keys = load_secrets(args.secrets) if args.secrets else ({}, ())
        config = StackConfig(
            manifest=load_manifest(args.manifest),
            egress=args.egress,
            nat_per_az=args.nat_per_az,
            availability_zones=args.azs,
            storage=args.storage,
            tracing=args.tracing,
            secrets=secrets,
            secrets_kms_keys=keys,
            operator=not args.no_operator,
        )
        paths = synth(config, args.out)
    except (CfnConfigError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} files to {args.out}")
    for path in paths:
        print(f"  {path}")
    return 0


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """``--tracing``, ``--secrets FILE`` and ``--no-operator``, shared with
    ``cloudformation.deploy`` (whose destroy must know which stacks exist)."""
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
