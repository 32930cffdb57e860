"""``make buf-breaking``: the contracts must not break what an earlier commit's did.

A change to protos/ that breaks wire or source compatibility (a removed field, a renamed
RPC, a changed type) would break every deployed peer built from the earlier contracts,
in any language. So CI compares this commit's contracts with those of the commit before
it (or ``--against REF``) with ``buf breaking`` (the FILE rules of buf.yaml), both built
as protoc images the way ``make protos`` builds them; googleapis is not ours to check.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tools.protogen import ROOT, descriptor_set

IMAGE = ROOT / "gen" / "descriptors.binpb"
BUF = ROOT / "tools" / "node_modules" / ".bin" / "buf"


def earlier_protos(ref: str, into: Path) -> Path | None:
    """protos/ as of ``ref``, extracted under ``into``; None when ``ref`` has none (the
    first commit, a shallow clone, or a commit from before the contracts)."""
    found = subprocess.run(  # noqa: S603 - git with a ref as a plain argument
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        return None
    archive = subprocess.run(  # noqa: S603 - git with a ref as a plain argument
        ["git", "archive", "--format=tar", ref, "protos"],  # noqa: S607
        cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "protos"


def breaking(image: Path, against: Path) -> subprocess.CompletedProcess[str]:
    """``buf breaking`` of one image against another (its findings on stdout)."""
    done = subprocess.run(  # noqa: S603 - our own pinned buf
        [str(BUF), "breaking", str(image), "--against", str(against), "--exclude-path", "google"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", default="HEAD~1", help="git ref (default: HEAD~1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        protos = earlier_protos(args.against, Path(folder))
        if protos is None:
            print(f"buf breaking: {args.against} has no protos/ to compare with: not run")
            return 0
        against = Path(folder) / "against.binpb"
        descriptor_set(protos, against)
        done = breaking(IMAGE, against)
    if done.returncode == 0:
        print(f"buf breaking: no breaking change against {args.against}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
