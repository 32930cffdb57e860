"""The commands ``make deploy`` prints after a deployment are paste-ready: a signing proxy
per Lattice service, grpcurl lines whose methods the protoset knows (checked by grpcurl
itself, offline) and whose data is the runner's tested examples, and curl for URLs."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from cloudformation.deploy.commands import PROTOSET, curl_commands, grpcurl_commands
from cloudformation.names import Exports
from meshkit.manifest import load_manifest

GRPCURL = Path(sys.executable).parent / "grpcurl"
DNS = "catalog-0a1b2c.7d67968.vpc-lattice-svcs.eu-west-1.on.aws"


def test_grpcurl_lines_go_through_the_proxy_and_name_real_methods() -> None:
    """Only services with a Lattice DNS name get lines; each call's method is one the
    protoset describes and its data is JSON."""
    specs = load_manifest().services
    lines = grpcurl_commands(specs, {Exports.lattice_dns("catalog"): DNS}, "eu-west-1")
    assert lines[1] == (
        f"python -m cloudformation.sigv4_proxy --listen 127.0.0.1:8443 --target {DNS}:443"
        " --region eu-west-1 &"
    )
    calls = [shlex.split(line) for line in lines if line.startswith("grpcurl")]
    assert calls
    for argv in calls:
        assert argv[:4] == ["grpcurl", "-plaintext", "-protoset", PROTOSET]
        for message in argv[argv.index("-d") + 1].splitlines():
            json.loads(message)
        method = argv[-1]
        assert method.startswith("shopmesh.catalog.v1.CatalogService/")
        described = subprocess.run(
            [str(GRPCURL), "-protoset", PROTOSET, "describe", method.replace("/", ".")],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert described.returncode == 0, described.stderr
        assert "rpc " in described.stdout
    assert lines[-1] == "kill %1"


def test_curl_lines_only_for_url_outputs() -> None:
    """The gateway URL gets a curl line; other outputs do not."""
    outputs = {"GatewayUrl": "https://shop.example", "CatalogLatticeDnsName": DNS}
    assert curl_commands(outputs) == ["curl -s https://shop.example"]
