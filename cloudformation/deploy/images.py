"""Container images: docker buildx builds each service from the repo root (protos are
shared) and pushes it to its ECR repository. Needs a Docker engine with buildx."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from cloudformation.deploy.aws import Client, DeployError

PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}


def dockerfile(name: str) -> Path:
    """``gateway/Dockerfile`` for the gateway, ``services/<name>/Dockerfile`` otherwise."""
    return Path("gateway/Dockerfile") if name == "gateway" else Path("services", name, "Dockerfile")


def build_and_push(ecr: Client, repositories: Mapping[str, str], tag: str, arch: str) -> None:
    """Logs docker in to ECR, then builds and pushes ``<uri>:<tag>`` per repository."""
    docker = shutil.which("docker")
    if docker is None:
        raise DeployError("docker not found: install Docker with buildx, or SKIP_IMAGES=1")
    token = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(token["authorizationToken"]).decode().partition(":")
    _run(
        [docker, "login", "--username", user, "--password-stdin", token["proxyEndpoint"]], password
    )
    for name, uri in repositories.items():
        _run(
            [
                docker, "buildx", "build", "--platform", PLATFORMS[arch], "--push",
                "--tag", f"{uri}:{tag}", "--file", str(dockerfile(name)), ".",
            ]
        )  # fmt: skip


def _run(command: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(command, input=stdin, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise DeployError(f"{' '.join(command[:3])} failed with exit code {done.returncode}")
