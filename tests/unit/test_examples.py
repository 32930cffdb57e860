"""The example calls (services/examples.toml) load, name only manifest services, and a
malformed entry fails by its place in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshkit.examples import ExamplesError, load_examples
from meshkit.manifest import load_manifest


def test_every_example_targets_a_service_of_the_manifest() -> None:
    """grpcurl examples name served gRPC services; REST examples name manifest services."""
    examples, manifest = load_examples(), load_manifest()
    served = {proto for spec in manifest.services for proto in spec.proto_services}
    assert set(examples.grpc) <= served
    assert set(examples.rest) <= {spec.name for spec in manifest.services}
    assert examples.gateway


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[grpc."a.v1.AService"]]\nmethod = "Get"\n', r"grpc\.a\.v1\.AService\[0\]"),
        (
            '[[grpc."a.v1.AService"]]\nmethod = "Get"\nrequest = {}\nmessages = [{}]\n',
            r"grpc\.a\.v1\.AService\[0\]",
        ),
        ('[[gateway]]\nmethod = "PUT"\npath = "/v1/x"\n', r"gateway\[0\]"),
        ('[[gateway]]\nmethod = "GET"\npath = "v1/x"\n', r"gateway\[0\]"),
        ('[[rest.orders]]\nmethod = "GET"\npath = "/v1/x"\ncolour = "red"\n', r"rest\.orders"),
        ('[[rest.orders]]\nmethod = "POST"\npath = "/x"\nbody = {}\nstream = [{}]\n', "orders"),
        ("[[gateway]\n", "examples.toml"),
    ],
)
def test_a_malformed_entry_fails_naming_it(tmp_path: Path, text: str, named: str) -> None:
    """Unknown keys, a missing or doubled request, a bad method or path, broken TOML."""
    path = tmp_path / "examples.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExamplesError, match=named):
        load_examples(path)
