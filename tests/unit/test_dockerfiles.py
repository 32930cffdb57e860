"""The container images and docker-compose.yml, proven statically against the manifest.

No Docker engine is available here, so the Dockerfiles and the compose file are parsed
and held to services/mesh.toml: ports, health checks, commands, user, pinned bases, the
build context (.dockerignore) and the call graph.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via the dev extras) ships no stubs

from cloudformation.deploy.images import bake_definition, dockerfile
from cloudformation.operator import OPERATOR, SESSION_S
from meshkit.env import dependency_env_name
from meshkit.manifest import GO, Manifest, ServiceSpec, load_manifest
from meshkit.runtime.config import DEFAULT_DRAIN_DELAY_S, DEFAULT_GRACE_S

ROOT = Path(__file__).resolve().parents[2]
BASE_DOCKERFILE = ROOT / "Dockerfile"
BASE_IMAGE = "shopmesh-base"
"""What every process's Dockerfile is built FROM: the image of BASE_DOCKERFILE."""
MANIFEST = load_manifest()
HEREDOC = re.compile(r"<<-?['\"]?(\w+)['\"]?")
PINNED_TAG = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$")
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE", re.I)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str | None:
        found = self.all(keyword)
        return found[-1] if found else None


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuations joined,
    heredoc bodies (``RUN python - <<'PY' ... PY``) skipped."""
    result: list[tuple[str, str]] = []
    lines = iter(text.splitlines())
    pending = ""
    for raw in lines:
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        pending = ""
        result.append((keyword.upper(), args.strip()))
        if (heredoc := HEREDOC.search(args)) is not None:
            for body in lines:
                if body.strip() == heredoc.group(1):
                    break
    return result


def stages(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults (those before the first FROM) and the stages of ``path``."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions(path.read_text()):
        if keyword == "FROM":
            words = [word for word in rest.split() if not word.startswith("--")]  # --platform
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(base=_expand(words[0], args), name=name))
        elif not found:
            assert keyword == "ARG", f"{path}: only ARG may come before FROM, got {keyword}"
            key, _, default = rest.partition("=")
            args[key] = default
        else:
            found[-1].instructions.append((keyword, rest))
    return args, found


def _expand(reference: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], reference)


def image_config(path: Path) -> Stage:
    """The final stage of ``path``, with what it inherits from BASE_DOCKERFILE in front."""
    final = stages(path)[1][-1]
    if final.base != BASE_IMAGE:
        return final
    inherited = stages(BASE_DOCKERFILE)[1][-1]
    return Stage(final.base, final.name, inherited.instructions + final.instructions)


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in re.findall(r"(\w+)=(\S+)", args):
            env[pair[0]] = pair[1]
    return env


@dataclass(frozen=True)
class Process:
    """One image of the mesh, as the manifest describes it."""

    name: str
    dockerfile: Path
    module: str
    ports: frozenset[int]
    health_port: int
    depends_on: tuple[str, ...]
    stateful: bool = False


def processes(manifest: Manifest = MANIFEST) -> list[Process]:
    found = [
        Process(
            name=spec.name,
            dockerfile=ROOT / Path(*spec.module.split(".")) / "Dockerfile",
            module=spec.module,
            ports=frozenset(p for p in (spec.grpc_port, spec.health_port, spec.rest_port) if p),
            health_port=spec.health_port,
            depends_on=spec.depends_on,
            stateful=spec.stateful,
        )
        for spec in manifest.services
    ]
    if manifest.gateway is not None:
        gateway = manifest.gateway
        found.append(
            Process(
                name=gateway.name,
                dockerfile=ROOT / Path(*gateway.module.split(".")) / "Dockerfile",
                module=gateway.module,
                ports=frozenset({gateway.http_port}),
                health_port=gateway.http_port,
                depends_on=gateway.upstreams,
            )
        )
    return found


PROCESSES = processes()
BY_NAME = {p.name: p for p in PROCESSES}
OPERATOR_DOCKERFILE = ROOT / dockerfile(OPERATOR)
DOCKERFILES = [BASE_DOCKERFILE, *(p.dockerfile for p in PROCESSES), OPERATOR_DOCKERFILE]


def test_manifest_has_a_gateway_and_services() -> None:
    """The parametrised tests below cover every service of the manifest and the gateway."""
    assert MANIFEST.gateway is not None
    assert {p.name for p in PROCESSES} == {s.name for s in MANIFEST.services} | {"gateway"}


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_dockerfile_exists_and_builds_from_the_shared_image(process: Process) -> None:
    """Each process has its own Dockerfile, a single stage FROM the shared base image."""
    assert process.dockerfile.is_file(), f"missing {process.dockerfile.relative_to(ROOT)}"
    _, found = stages(process.dockerfile)
    assert [s.base for s in found] == [BASE_IMAGE]
    assert not found[0].all("RUN"), "per-process Dockerfiles add metadata only (multi-arch)"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_base_images_pinned_to_an_exact_version(path: Path) -> None:
    """Every external base image names an exact version (never ``latest``)."""
    _, found = stages(path)
    names = {s.name for s in found if s.name}
    for stage in found:
        if stage.base in names or stage.base == BASE_IMAGE:
            continue
        assert "latest" not in stage.base, stage.base
        assert PINNED_TAG.match(stage.base), f"{stage.base} is not pinned to an exact version"


def test_shared_image_is_multi_stage_on_one_interpreter() -> None:
    """The builder generates the stubs as ``make protos`` does; the runtime stage starts
    from the same pinned image (the copied venv links to its interpreter) and copies only
    from the builder."""
    _, (build, runtime) = stages(BASE_DOCKERFILE)
    assert build.base == runtime.base
    assert build.name == "build"
    assert any("tools/protogen.py" in run for run in build.all("RUN"))
    assert any("pip install --no-deps ." in run for run in build.all("RUN"))
    assert runtime.all("COPY"), "the runtime stage copies the venv"
    assert all(copy.startswith("--from=build ") for copy in runtime.all("COPY"))


def test_dependencies_are_pinned_in_pyproject() -> None:
    """The images install pyproject.toml's requirements, so each must be an exact pin."""
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.M | re.S)
    assert block is not None
    requirements = re.findall(r'^\s*"([^"]+)"', block.group(1), re.M)
    assert requirements
    assert all("==" in r for r in requirements), requirements


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_image_runs_as_numeric_non_root_user(process: Process) -> None:
    """The effective USER is numeric (uid:gid) and not root."""
    user = image_config(process.dockerfile).last("USER")
    assert user is not None
    assert re.fullmatch(r"\d+(:\d+)?", user), user
    assert int(user.split(":")[0]) != 0


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_image_exposes_the_manifest_ports(process: Process) -> None:
    """EXPOSE lists exactly the process's ports from the manifest."""
    exposed = {
        int(p) for args in image_config(process.dockerfile).all("EXPOSE") for p in args.split()
    }
    assert exposed == process.ports


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_healthcheck_probes_healthz_on_the_health_port(process: Process) -> None:
    """HEALTHCHECK runs python (no curl in slim images) against /healthz on the right port."""
    healthcheck = image_config(process.dockerfile).last("HEALTHCHECK")
    assert healthcheck is not None
    _, _, command = healthcheck.partition(" CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    urls = re.findall(r"https?://[^'\"]+", argv[2])
    assert urls == [f"http://127.0.0.1:{process.health_port}/healthz"]


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_image_runs_its_module_and_stops_on_sigterm(process: Process) -> None:
    """CMD is ``python -m <module>`` in exec form, so SIGTERM reaches Python directly."""
    config = image_config(process.dockerfile)
    assert json.loads(config.last("CMD") or "null") == ["python", "-m", process.module]
    assert config.last("STOPSIGNAL") == "SIGTERM"
    assert config.last("ENTRYPOINT") is None
    assert env_of(config)["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secrets_in_dockerfiles(path: Path) -> None:
    """No ENV or ARG carries a password, token or key: secrets come at run time."""
    for stage in stages(path)[1]:
        names = set(env_of(stage)) | {a.partition("=")[0] for a in stage.all("ARG")}
        assert not {n for n in names if SECRET_NAME.search(n)}


def _ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (is_exception, regex), in order: the last match decides."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = "".join(
            ".*"
            if part == "**"
            else "[^/]*"
            if part == "*"
            else "[^/]"
            if part == "?"
            else re.escape(part)
            for part in re.split(r"(\*\*|\*|\?)", glob)
        )
        patterns.append((exception, re.compile(regex.replace(".*/", "(.*/)?"))))
    return patterns


def in_build_context(path: str) -> bool:
    """Whether Docker sends ``path`` (or, for a directory, its contents) to the builder."""
    parts = path.split("/")
    included = True
    for exception, pattern in _ignore_patterns():
        prefixes = ("/".join(parts[: i + 1]) for i in range(len(parts)))
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            included = exception
    return included


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", "data/orders.sqlite3", "build/cloudformation/mesh.json",
     "gen/python/shopmesh/__init__.py", ".git/HEAD", "tools/node_modules/x/package.json",
     "services/orders/__pycache__/app.cpython-311.pyc", "loadtest/__main__.py"],
)  # fmt: skip
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    """The virtualenv, generated code, build output, data and git history never enter
    the build context (gen/ is regenerated inside the build)."""
    assert not in_build_context(path)


def test_dockerignore_admits_every_copy_source() -> None:
    """Every COPY source of the shared build exists and is in the build context."""
    sources = []
    for stage in stages(BASE_DOCKERFILE)[1]:
        for args in stage.all("COPY"):
            if not args.startswith("--from="):
                sources += args.split()[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert in_build_context(source.rstrip("/")), f"{source} is excluded by .dockerignore"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


COMPOSE = compose()


def test_compose_runs_every_process_and_the_base_build() -> None:
    """Compose has one service per process, plus the build-only shared base."""
    assert set(COMPOSE["services"]) == {p.name for p in PROCESSES} | {"base"}
    assert COMPOSE["services"]["base"]["build"]["dockerfile"] == "Dockerfile"


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_builds_the_process_dockerfile_on_the_shared_base(process: Process) -> None:
    """Each service builds its own Dockerfile, FROM the image the base service built."""
    build = COMPOSE["services"][process.name]["build"]
    assert build["context"] == "."
    assert ROOT / build["dockerfile"] == process.dockerfile
    assert build["additional_contexts"] == {BASE_IMAGE: "service:base"}


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_publishes_the_serving_ports_on_loopback(process: Process) -> None:
    """The gRPC and health ports (the gateway's HTTP port) are published unchanged."""
    spec = COMPOSE["services"][process.name]
    published = [str(p).split(":") for p in spec["ports"]]
    assert all(host == "127.0.0.1" and outside == inside for host, outside, inside in published)
    rest_port = MANIFEST.service(process.name).rest_port if process.name != "gateway" else 0
    assert {int(inside) for *_, inside in published} == process.ports - {rest_port}


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_env_addresses_dependencies_by_service_name(process: Process) -> None:
    """Dependencies are reached at ``<name>:<grpc port>``; the process listens on all
    interfaces; nothing secret is set."""
    env = COMPOSE["services"][process.name]["environment"]
    host = "GATEWAY_HOST" if process.name == "gateway" else "SHOPMESH_HOST"
    assert env[host] == "0.0.0.0"  # noqa: S104 - containers listen on their interface
    addresses = {k: v for k, v in env.items() if k.endswith("_ADDR")}
    assert addresses == {
        dependency_env_name(dep): f"{dep}:{MANIFEST.service(dep).grpc_port}"
        for dep in process.depends_on
    }
    assert not {name for name in env if SECRET_NAME.search(name)}


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_start_order_follows_the_call_graph(process: Process) -> None:
    """A process starts once every service it calls reports healthy."""
    depends_on = COMPOSE["services"][process.name].get("depends_on", {})
    assert depends_on == {dep: {"condition": "service_healthy"} for dep in process.depends_on}
    for dep in process.depends_on:
        assert "healthcheck" not in COMPOSE["services"][dep], "the image's HEALTHCHECK is used"
        assert image_config(BY_NAME[dep].dockerfile).last("HEALTHCHECK") is not None


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_keeps_stateful_data_on_a_named_volume(process: Process) -> None:
    """Stateful services keep SQLite on a named volume at SHOPMESH_DATA_DIR; others have none."""
    spec = COMPOSE["services"][process.name]
    volumes = spec.get("volumes", [])
    if not process.stateful:
        assert volumes == []
        return
    data_dir = spec["environment"]["SHOPMESH_DATA_DIR"]
    assert volumes == [f"{process.name}-data:{data_dir}"]
    assert f"{process.name}-data" in COMPOSE["volumes"]
    assert env_of(image_config(process.dockerfile))["SHOPMESH_DATA_DIR"] == data_dir


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_compose_waits_out_the_drain_before_killing(process: Process) -> None:
    """stop_grace_period covers the default drain delay plus grace, so SIGKILL never cuts
    a drain short."""
    period = COMPOSE["services"][process.name]["stop_grace_period"]
    assert re.fullmatch(r"\d+s", period)
    assert int(period[:-1]) > DEFAULT_DRAIN_DELAY_S + DEFAULT_GRACE_S


def test_deploy_bakes_the_shared_base_into_every_process_image() -> None:
    """``make deploy`` builds each process from its own Dockerfile with the root
    Dockerfile's image as its ``shopmesh-base`` context, and pushes only the processes."""
    repositories = {
        "catalog": "123.dkr.ecr.eu-west-1.amazonaws.com/x-catalog",
        "gateway": "g",
        OPERATOR: "o",
    }
    bake = bake_definition(repositories, "abc", "linux/arm64")
    assert bake["group"]["default"]["targets"] == ["catalog", "gateway", OPERATOR]
    assert bake["target"]["base"]["dockerfile"] == "Dockerfile"
    assert "tags" not in bake["target"]["base"]
    for name, uri in repositories.items():
        target = bake["target"][name]
        assert Path(target["dockerfile"]) == dockerfile(name)
        assert dockerfile(name).is_file()
        assert "FROM shopmesh-base" in dockerfile(name).read_text()
        assert target["contexts"] == {"shopmesh-base": "target:base"}
        assert target["tags"] == [f"{uri}:abc"]
        assert target["platforms"] == ["linux/arm64"]


def test_operator_image_adds_a_pinned_grpcurl_and_the_proxy_to_the_shared_image() -> None:
    """The operator image builds grpcurl from a pinned version for the target platform in
    a Go stage, then adds it and this repo's cloudformation package (the SigV4 proxy) to
    the shared image; it serves nothing and outlives no session."""
    _, (builder, image) = stages(OPERATOR_DOCKERFILE)
    assert builder.name == "grpcurl"
    (install,) = builder.all("RUN")
    assert re.search(r"github\.com/fullstorydev/grpcurl/cmd/grpcurl@v\d+\.\d+\.\d+\b", install)
    assert "GOARCH=$TARGETARCH" in install
    assert image.base == BASE_IMAGE
    copies = image.all("COPY")
    assert "--from=grpcurl /out/grpcurl /usr/local/bin/grpcurl" in copies
    assert "cloudformation/ /opt/shopmesh/cloudformation/" in copies
    assert in_build_context("cloudformation/sigv4_proxy.py")
    assert env_of(image)["PYTHONPATH"] == "/opt/shopmesh"
    assert json.loads(image.last("CMD") or "null") == ["sleep", str(SESSION_S)]


GO_SERVICES = [spec for spec in MANIFEST.services if spec.go is not None]
GO_BUILD = ROOT / "meshkit" / "go" / "Dockerfile"


def _makefile_pin(name: str) -> str:
    found = re.search(rf"^{name} := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found is not None, name
    return found.group(1)


def test_go_build_image_pins_what_the_makefile_and_npm_pin() -> None:
    """The shared Go build installs buf and the two generators at exactly the versions
    the local build uses, from a pinned Go image, and builds every services/<name>/go."""
    _, (build,) = stages(GO_BUILD)
    assert PINNED_TAG.match(build.base), build.base
    declared = dict(arg.partition("=")[::2] for arg in build.all("ARG") if "=" in arg)
    assert declared["PROTOC_GEN_GO_VERSION"] == _makefile_pin("PROTOC_GEN_GO_VERSION")
    assert declared["PROTOC_GEN_GO_GRPC_VERSION"] == _makefile_pin("PROTOC_GEN_GO_GRPC_VERSION")
    npm = json.loads((ROOT / "tools" / "package.json").read_text())["devDependencies"]
    assert declared["BUF_VERSION"] == "v" + npm["@bufbuild/buf"]
    assert "--from=shopmesh-base /opt/shopmesh/descriptors.binpb gen/descriptors.binpb" in (
        build.all("COPY")
    )
    assert any("services/*/go/main.go" in run for run in build.all("RUN"))
    for source in ("go.mod", "go.sum", "buf.gen.go.yaml", "meshkit/go", "services"):
        assert in_build_context(source), source


@pytest.mark.parametrize("spec", GO_SERVICES, ids=lambda s: s.name)
def test_go_image_is_its_binary_on_scratch_with_the_manifest_ports(spec: ServiceSpec) -> None:
    """A Go service's image: its static binary on scratch, non-root, the manifest's ports,
    a health check with no shell (the binary's own --healthcheck) and the binary as the
    entrypoint; make deploy builds it from the shared Go build."""
    path = ROOT / dockerfile(spec.name, GO)
    _, (image,) = stages(path)
    assert image.base == "scratch"
    assert f"--from=shopmesh-go /out/{spec.name} /{spec.name}" in image.all("COPY")
    assert image.last("USER") == "10001:10001"
    exposed = {int(port) for port in (image.last("EXPOSE") or "").split()}
    assert exposed == {spec.grpc_port, spec.health_port, spec.rest_port}
    check = image.last("HEALTHCHECK") or ""
    assert check.endswith(f'CMD ["/{spec.name}", "--healthcheck"]')
    assert json.loads(image.last("ENTRYPOINT") or "null") == [f"/{spec.name}"]
    assert image.last("STOPSIGNAL") == "SIGTERM"
    bake = bake_definition({spec.name: "uri"}, "t", "linux/amd64", {spec.name: GO})
    assert bake["target"][spec.name]["contexts"] == {"shopmesh-go": "target:go-base"}
    assert bake["target"]["go-base"]["dockerfile"] == "meshkit/go/Dockerfile"
    assert bake["target"]["go-base"]["contexts"] == {"shopmesh-base": "target:base"}
