"""Generate Python stubs, typing stubs and a FileDescriptorSet from protos/.

Run through `make protos`. Output goes to gen/ (git-ignored): the build makes it, so it
can never drift from the contracts. googleapis protos come from the installed
googleapis-common-protos package and well-known types from grpcio-tools; nothing is
vendored.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
GEN_ROOT = ROOT / "gen"


def _include_dirs(protos: Path = PROTO_ROOT) -> list[Path]:
    """Directories protoc searches: ours, googleapis' and the well-known types."""
    import google.api  # from googleapis-common-protos; ships its .proto files

    googleapis_root = Path(next(iter(google.api.__path__))).parent.parent
    well_known_root = Path(str(resources.files("grpc_tools") / "_proto"))
    return [protos, googleapis_root, well_known_root]


def _plugin(name: str) -> str:
    """Absolute path of a protoc plugin installed next to this interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            raise SystemExit(f"protoc plugin {name!r} not found; install the dev extras")
        return found
    return str(path)


def proto_files(protos: Path = PROTO_ROOT) -> list[Path]:
    return sorted(p.relative_to(protos) for p in protos.rglob("*.proto"))


def descriptor_set(protos: Path, out: Path) -> None:
    """Only the FileDescriptorSet (imports included) of the contracts under ``protos``,
    as ``generate`` writes it: what buf lints, and compares with ``buf breaking``."""
    files = [str(p) for p in proto_files(protos)]
    args = [
        "grpc_tools.protoc",
        *(f"-I{d}" for d in _include_dirs(protos)),
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {protos}")


def generate(out: Path) -> None:
    python_out = out / "python"
    if python_out.exists():
        shutil.rmtree(python_out)
    python_out.mkdir(parents=True)
    files = [str(p) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        *(f"-I{d}" for d in _include_dirs()),
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={python_out}",
        f"--grpc_python_out={python_out}",
        f"--mypy_out={python_out}",
        f"--mypy_grpc_out={python_out}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out / 'descriptors.binpb'}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Regular packages (not namespace packages) so mypy and importlib resolve them
    # unambiguously; the top-level "google" namespace is left to googleapis.
    for directory in python_out.rglob("*"):
        if directory.is_dir() and directory.name != "__pycache__":
            (directory / "__init__.py").touch()
            (directory / "py.typed").touch()
    print(f"generated {len(files)} protos into {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=GEN_ROOT)
    generate(parser.parse_args().out)


if __name__ == "__main__":
    main()
