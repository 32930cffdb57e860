"""``python -m cloudformation synth --out DIR [--manifest FILE] [--egress nat] [--azs 3]
[--storage dynamodb]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudformation.config import STORAGES, CfnConfigError, StackConfig
from cloudformation.synth import synth
from services.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest


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
    args = parser.parse_args(argv)
    try:
        config = StackConfig(
            manifest=load_manifest(args.manifest),
            egress=args.egress,
            nat_per_az=args.nat_per_az,
            availability_zones=args.azs,
            storage=args.storage,
        )
        paths = synth(config, args.out)
    except (CfnConfigError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} files to {args.out}")
    for path in paths:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
