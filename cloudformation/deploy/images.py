"""Container images: ``docker buildx bake`` builds every process from the repo root and
pushes it to its ECR repository. Needs a Docker engine with buildx.

Each process's Dockerfile starts ``FROM shopmesh-base``, the shared image of the root
``Dockerfile``; bake builds that once and hands it to every process build as a named
context (``target:base``), as docker-compose does with ``additional_contexts``."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from cloudformation.deploy.aws import Client, DeployError
from cloudformation.deploy.display import Reporter
from cloudformation.operator import OPERATOR
from meshkit.manifest import GO, PYTHON

PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}


GO_BUILD_DOCKERFILE = Path("meshkit/go/Dockerfile")
"""The shared Go build (``shopmesh-go``): every Go binary, from the Python image's
descriptor image; each Go service's Dockerfile copies its binary from it."""


def dockerfile(name: str, impl: str = PYTHON) -> Path:
    """``gateway/Dockerfile`` for the gateway, ``cloudformation/operator.Dockerfile`` for
    the operator, ``services/<name>/go/Dockerfile`` for a Go implementation,
    ``services/<name>/Dockerfile`` otherwise."""
    if name == "gateway":
        return Path("gateway/Dockerfile")
    if name == OPERATOR:
        return Path("cloudformation/operator.Dockerfile")
    if impl == GO:
        return Path("services", name, "go", "Dockerfile")
    return Path("services", name, "Dockerfile")


def build_and_push(
    ecr: Client,
    repositories: Mapping[str, str],
    tag: str,
    arch: str,
    reporter: Reporter,
    implementations: Mapping[str, str],
) -> None:
    """Logs docker in to ECR, then builds and pushes ``<uri>:<tag>`` per repository that
    does not hold that tag yet (the repositories are immutable: a tag is pushed once, so
    deploying the same commit again rebuilds nothing)."""
    missing = missing_images(ecr, repositories, tag)
    for name in sorted(set(repositories) - set(missing)):
        reporter.say(f"image {name}:{tag} is in ECR already")
    if not missing:
        return
    docker = shutil.which("docker")
    if docker is None:
        raise DeployError("docker not found: install Docker with buildx, or SKIP_IMAGES=1")
    token = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(token["authorizationToken"]).decode().partition(":")
    _run(
        [docker, "login", "--username", user, "--password-stdin", token["proxyEndpoint"]], password
    )
    with tempfile.TemporaryDirectory() as folder:
        definition = Path(folder) / "docker-bake.json"
        bake = bake_definition(missing, tag, PLATFORMS[arch], implementations)
        definition.write_text(json.dumps(bake))
        _run([docker, "buildx", "bake", "--file", str(definition), "--push"])


def missing_images(ecr: Client, repositories: Mapping[str, str], tag: str) -> dict[str, str]:
    """The repositories (name -> URI) that have no image tagged ``tag``."""
    missing: dict[str, str] = {}
    for name, uri in repositories.items():
        repository = uri.partition("/")[2]
        try:
            ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ImageNotFoundException":
                raise
            missing[name] = uri
    return missing


def bake_definition(
    repositories: Mapping[str, str],
    tag: str,
    platform: str,
    implementations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The bake file: the shared base (built, never pushed), with a Go implementation
    the shared Go build on it (built, never pushed), and one pushed target per repository
    whose ``shopmesh-base`` (or ``shopmesh-go``) context is that build."""
    chosen = implementations or {}
    targets: dict[str, Any] = {
        "base": {"context": ".", "dockerfile": "Dockerfile", "platforms": [platform]}
    }
    if GO in (chosen.get(name) for name in repositories):
        targets["go-base"] = {
            "context": ".",
            "dockerfile": str(GO_BUILD_DOCKERFILE),
            "contexts": {"shopmesh-base": "target:base"},
            "platforms": [platform],
        }
    for name, uri in repositories.items():
        impl = chosen.get(name, PYTHON)
        targets[name] = {
            "context": ".",
            "dockerfile": str(dockerfile(name, impl)),
            "contexts": (
                {"shopmesh-go": "target:go-base"}
                if impl == GO
                else {"shopmesh-base": "target:base"}
            ),
            "platforms": [platform],
            "tags": [f"{uri}:{tag}"],
        }
    return {"group": {"default": {"targets": list(repositories)}}, "target": targets}


def _run(command: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(command, input=stdin, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise DeployError(f"{' '.join(command[:3])} failed with exit code {done.returncode}")
