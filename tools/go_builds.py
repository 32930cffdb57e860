"""Print ``<binary> <package>`` for every Go implementation the manifest lists.

``make go-build`` builds each one; the manifest (services/mesh.toml) stays the one place
that says which implementations exist.
"""

from __future__ import annotations

import sys

from meshkit.manifest import load_manifest


def main() -> None:
    for spec in load_manifest().services:
        if spec.go is not None:
            sys.stdout.write(f"{spec.go.binary} {spec.go.package}\n")


if __name__ == "__main__":
    main()
