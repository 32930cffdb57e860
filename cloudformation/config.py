"""The one typed configuration of the CloudFormation builders, validated at build time.

Everything that differs between environments or regions (environment name, image tag,
desired counts, Lattice prefix lists, consumer principals) is a template parameter; this
object holds only the shape of the mesh, so the same config yields the same templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from meshkit.implementations import ImplementationError, choose
from meshkit.manifest import DEFAULT_MANIFEST, GO, Manifest, ServiceSpec, load_manifest
from meshkit.probes import LIVENESS_PATH
from meshkit.runtime.channels import KEEPALIVE_TIME_MS
from meshkit.runtime.config import (
    DEFAULT_DRAIN_DELAY_S,
    DEFAULT_GRACE_S,
    DEFAULT_STREAM_HEARTBEAT_S,
)

Egress = Literal["endpoints", "nat"]
Architecture = Literal["X86_64", "ARM64"]
Storage = Literal["sqlite", "dynamodb"]
STORAGES: tuple[Storage, ...] = ("sqlite", "dynamodb")

FARGATE_MAX_STOP_TIMEOUT_S = 120
"""Fargate ignores (and CloudFormation rejects) a container StopTimeout above this."""
LATTICE_IDLE_TIMEOUT_RANGE_S = (60, 600)
"""AWS::VpcLattice::Service IdleTimeoutSeconds bounds (resource schema)."""
LATTICE_NAME_MAX = 40
"""AWS::VpcLattice::Service Name is 3-40 characters."""
ENVIRONMENT_NAME_MAX = 16
"""Longest EnvironmentName parameter the templates accept; it prefixes every name."""
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
"""Valid Fargate (cpu units → memory MiB) combinations up to 4 vCPU."""

DEFAULT_STOP_TIMEOUT_S = int(DEFAULT_DRAIN_DELAY_S + DEFAULT_GRACE_S) + 5
"""Drain delay + grace, plus 5 s for the interpreter to exit before SIGKILL."""
DEFAULT_IDLE_TIMEOUT_S = 300
"""Service Connect and Lattice idle timeout (Service Connect's default; Lattice's is 60 s,
so it is set explicitly): five stream heartbeats and five keepalive intervals."""
HEARTBEATS_PER_IDLE_TIMEOUT = 3
"""The timing rule (docs/AWS.md, "Health and timeouts"): every idle timeout on a stream's
path spans at least this many stream heartbeats, so even two lost or late heartbeats
never let an open stream look idle to a proxy."""
ALB_IDLE_TIMEOUT_RANGE_S = (1, 4000)
"""AWS::ElasticLoadBalancingV2::LoadBalancer idle_timeout.timeout_seconds bounds."""
DEFAULT_ALB_IDLE_TIMEOUT_S = 300
"""The load balancer's idle timeout: it is on the path of the gateway's NDJSON streams
(WatchOrders), so the timing rule holds for it too (its own default, 60 s, equals the
heartbeat). The gateway keeps idle connections open longer, so the balancer, never the
gateway, closes a pooled connection."""
DEFAULT_HEALTH_CHECK_GRACE_S = 60
"""How long ECS ignores failing health checks (container, Lattice, load balancer) of a
new task: start-up plus a slow first dependency answer, well inside it."""
SERVICE_CONNECT_PROXY_CPU = 256
SERVICE_CONNECT_PROXY_MEMORY_MIB = 64
"""What AWS recommends leaving in each task for the Service Connect proxy (Envoy)."""
DEFAULT_COLLECTOR_CPU = 64
DEFAULT_COLLECTOR_MEMORY_MIB = 128
"""What the ADOT collector sidecar takes from a task when tracing is on: a traces-only
collector idles at a few dozen MiB, and its hard limit keeps it from starving the app."""
APP_MIN_CPU = 128
APP_MIN_MEMORY_MIB = 256
"""Least CPU units and memory a process must keep beside the sidecar."""
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
"""UPPER_SNAKE: the only variable names a secret may take."""
SSM_PARAMETER = re.compile(
    r"^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter)?/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"
)
"""An SSM parameter by name (``/shopmesh/gateway/api-keys``) or by full ARN."""
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+"
    r"(:[^:]*:[^:]*:[^:]*)?$"
)
"""A Secrets Manager secret by full ARN, optionally with ECS's
``:json-key:version-stage:version-id`` suffix."""
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
TRACING_REQUIRES_EGRESS: Egress = "nat"

RESERVED_NAME_PREFIXES = ("svc-", "tg-", "servicenetwork-", "internal-")
"""Names VPC Lattice (services, target groups, service networks) and load balancers
refuse to start with; the environment name prefixes all of them."""
ENVIRONMENT_PATTERN = "^(?!" + "|".join(RESERVED_NAME_PREFIXES) + ")[a-z][a-z0-9]*(-[a-z0-9]+)*$"
"""What an environment name may be: lower-case words joined by '-', not starting with a
reserved prefix (the EnvironmentName parameter's AllowedPattern, and the deploy's check)."""


class CfnConfigError(ValueError):
    """The manifest or the builder configuration cannot yield valid templates."""


@dataclass(frozen=True)
class StackConfig:
    """Shape of the deployed mesh; validated by ``validate`` before any template is built."""

    manifest: Manifest = field(default_factory=lambda: load_manifest(DEFAULT_MANIFEST))
    availability_zones: int = 2
    vpc_cidr: str = "10.0.0.0/16"
    egress: Egress = "endpoints"
    """How private tasks reach AWS APIs: VPC endpoints (default, no internet route) or
    NAT gateways (one, or one per AZ with ``nat_per_az``)."""
    nat_per_az: bool = False
    drain_delay_s: float = DEFAULT_DRAIN_DELAY_S
    grace_s: float = DEFAULT_GRACE_S
    stop_timeout_s: int = DEFAULT_STOP_TIMEOUT_S
    keepalive_s: float = KEEPALIVE_TIME_MS / 1000
    stream_heartbeat_s: float = DEFAULT_STREAM_HEARTBEAT_S
    """How often quiet server streams (health Watch, WatchOrders) send a message; the
    tasks are told it (SHOPMESH_STREAM_HEARTBEAT_S) so the timing rule holds for them."""
    idle_timeout_s: int = DEFAULT_IDLE_TIMEOUT_S
    health_check_grace_s: int = DEFAULT_HEALTH_CHECK_GRACE_S
    cpu: int = 512
    memory_mib: int = 1024
    """Task size, the Service Connect proxy's share (and the collector's) included."""
    architecture: Architecture = "X86_64"
    container_user: str = "10001:10001"
    health_path: str = LIVENESS_PATH
    log_retention_days: int = 30
    images_kept: int = 30
    untagged_image_days: int = 7
    scaling_cpu_target: float = 60.0
    lattice_allow_reflection: bool = False
    """Also admit gRPC server reflection through Lattice (handy for grpcurl, but it
    discloses the API to every allowed principal)."""
    storage: Storage = "sqlite"
    """Where stateful services keep their data: SQLite on the task's disk (one task per
    service) or one DynamoDB table each, from the storage stack (they may then scale)."""
    gateway_drain_s: float = DEFAULT_DRAIN_DELAY_S
    gateway_grace_s: float = DEFAULT_GRACE_S
    alb_idle_timeout_s: int = DEFAULT_ALB_IDLE_TIMEOUT_S
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Process (service or gateway) → environment variable → SSM parameter (name or ARN)
    or Secrets Manager secret ARN. ECS injects each as a container ``Secrets`` entry; the
    value never appears in a template."""
    secrets_kms_keys: tuple[str, ...] = ()
    """Customer managed KMS keys that encrypt those secrets (kms:Decrypt for the execution
    role); none when they use the AWS managed keys, which need no grant."""
    tracing: bool = False
    """Run the ADOT collector beside every process and send its traces to X-Ray."""
    collector_cpu: int = DEFAULT_COLLECTOR_CPU
    collector_memory_mib: int = DEFAULT_COLLECTOR_MEMORY_MIB
    edge_admin: bool = False
    """Route the contract's ADMIN RPCs at the edge too (GATEWAY_ADMIN_ROUTES=1), each
    behind an API key: the gateway's secrets must then give it GATEWAY_API_KEYS."""
    impl: str = ""
    """Which implementation of each service the tasks run: the manifest's ``impl`` by
    default, or a choice as ``make run`` takes it (``go``, ``pricing=go``); each picks
    that implementation's image (meshkit.implementations)."""
    operator: bool = True
    """The operator stack: a task definition to run in the mesh's VPC and open a shell in
    (ECS Exec), with grpcurl and the SigV4 proxy, the way in to the Lattice services."""

    @property
    def implementations(self) -> dict[str, str]:
        """Service name → the implementation its tasks run."""
        try:
            return choose(self.manifest.services, self.impl)
        except ImplementationError as exc:
            raise CfnConfigError(f"impl={self.impl!r}: {exc}") from None

    def service(self, name: str) -> ServiceSpec:
        """The manifest entry ``name``; CfnConfigError when there is none."""
        try:
            return self.manifest.service(name)
        except KeyError:
            raise CfnConfigError(f"no service {name!r} in the manifest") from None


def check_environment_name(name: str) -> str:
    """``name`` if it can prefix every resource name; CfnConfigError naming it otherwise."""
    reserved = next((p for p in RESERVED_NAME_PREFIXES if name.startswith(p)), None)
    if reserved is not None:
        raise CfnConfigError(
            f"environment {name!r} starts with {reserved!r}, a prefix VPC Lattice or load"
            " balancer names may not have"
        )
    if not 3 <= len(name) <= ENVIRONMENT_NAME_MAX or not re.match(ENVIRONMENT_PATTERN, name):
        raise CfnConfigError(
            f"environment {name!r} must be 3-{ENVIRONMENT_NAME_MAX} lower-case letters,"
            " digits and single '-', starting with a letter"
        )
    return name


def validate(config: StackConfig) -> StackConfig:
    """Returns ``config`` unchanged, or raises CfnConfigError naming the first bad value."""
    _check_network(config)
    _check_timeouts(config)
    _check_edge(config)
    _check_stream_timing(config)
    _check_task_size(config)
    _check_tracing(config)
    _check_secrets(config)
    _check_edge_admin(config)
    _check_implementations(config)
    _check_manifest(config.manifest)
    return config


def _check_network(config: StackConfig) -> None:
    if config.availability_zones not in (2, 3):
        raise CfnConfigError(f"availability_zones must be 2 or 3, got {config.availability_zones}")
    if config.egress not in ("endpoints", "nat"):
        raise CfnConfigError(f"egress must be 'endpoints' or 'nat', got {config.egress!r}")
    prefix = config.vpc_cidr.partition("/")[2]
    if not prefix.isdigit() or not 16 <= int(prefix) <= 20:
        # Six /prefix+4 subnets must fit: public and private in up to three AZs.
        raise CfnConfigError(f"vpc_cidr must be a /16../20 block, got {config.vpc_cidr!r}")


def _check_timeouts(config: StackConfig) -> None:
    for who, needed in (
        ("drain delay + grace", config.drain_delay_s + config.grace_s),
        ("the gateway's drain + grace", config.gateway_drain_s + config.gateway_grace_s),
    ):
        if config.stop_timeout_s < needed:
            raise CfnConfigError(
                f"stop_timeout_s={config.stop_timeout_s} is below {who} = {needed:g} s:"
                " ECS would SIGKILL tasks while they still drain"
            )
    if config.stop_timeout_s > FARGATE_MAX_STOP_TIMEOUT_S:
        raise CfnConfigError(
            f"stop_timeout_s={config.stop_timeout_s} exceeds Fargate's"
            f" {FARGATE_MAX_STOP_TIMEOUT_S} s maximum"
        )
    low, high = LATTICE_IDLE_TIMEOUT_RANGE_S
    if not config.keepalive_s < config.idle_timeout_s <= high or config.idle_timeout_s < low:
        raise CfnConfigError(
            f"idle_timeout_s={config.idle_timeout_s} must exceed the {config.keepalive_s:g} s"
            f" keepalive interval and lie in {low}..{high} (VPC Lattice's range)"
        )
    if config.health_check_grace_s < 0:
        raise CfnConfigError("health_check_grace_s must not be negative")


def _check_edge(config: StackConfig) -> None:
    if config.storage not in STORAGES:
        raise CfnConfigError(f"storage must be one of {STORAGES}, got {config.storage!r}")
    low, high = ALB_IDLE_TIMEOUT_RANGE_S
    if not low <= config.alb_idle_timeout_s <= high:
        raise CfnConfigError(
            f"alb_idle_timeout_s={config.alb_idle_timeout_s} must lie in {low}..{high}"
        )


def _check_stream_timing(config: StackConfig) -> None:
    """The timing rule: every idle timeout on a stream's path spans several heartbeats."""
    least = HEARTBEATS_PER_IDLE_TIMEOUT * config.stream_heartbeat_s
    for setting, idle in (
        ("idle_timeout_s", config.idle_timeout_s),
        ("alb_idle_timeout_s", config.alb_idle_timeout_s),
    ):
        if idle < least:
            raise CfnConfigError(
                f"{setting}={idle} is below {HEARTBEATS_PER_IDLE_TIMEOUT} stream heartbeats"
                f" ({least:g} s): a proxy could cut a quiet stream"
            )


def _check_task_size(config: StackConfig) -> None:
    if config.memory_mib not in FARGATE_SIZES.get(config.cpu, ()):
        raise CfnConfigError(
            f"cpu={config.cpu} with memory_mib={config.memory_mib} is not a Fargate task size"
        )
    app_cpu = config.cpu - SERVICE_CONNECT_PROXY_CPU
    app_memory = config.memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB
    if app_cpu < APP_MIN_CPU or app_memory < APP_MIN_MEMORY_MIB:
        raise CfnConfigError(
            f"cpu={config.cpu}/memory_mib={config.memory_mib} leaves {app_cpu} CPU units and"
            f" {app_memory} MiB beside the Service Connect proxy"
            f" ({SERVICE_CONNECT_PROXY_CPU}/{SERVICE_CONNECT_PROXY_MEMORY_MIB});"
            f" the app needs at least {APP_MIN_CPU}/{APP_MIN_MEMORY_MIB}"
        )
    if not config.health_path.startswith("/"):
        raise CfnConfigError(f"health_path must start with '/', got {config.health_path!r}")


def _check_tracing(config: StackConfig) -> None:
    if not config.tracing:
        return
    if config.egress != TRACING_REQUIRES_EGRESS:
        # ECR Public has no VPC endpoint (nor has the X-Ray API among ours): without NAT
        # the task could pull neither the collector image nor deliver a trace.
        raise CfnConfigError(
            "tracing needs egress='nat': the collector image comes from public.ecr.aws,"
            " which no VPC endpoint serves"
        )
    app_cpu = config.cpu - SERVICE_CONNECT_PROXY_CPU - config.collector_cpu
    app_memory = config.memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB - config.collector_memory_mib
    if (
        min(config.collector_cpu, config.collector_memory_mib) <= 0
        or app_cpu < APP_MIN_CPU
        or app_memory < APP_MIN_MEMORY_MIB
    ):
        raise CfnConfigError(
            f"a {config.cpu}/{config.memory_mib} task leaves {app_cpu} CPU units and"
            f" {app_memory} MiB beside the Service Connect proxy and a"
            f" {config.collector_cpu}/{config.collector_memory_mib} collector; the app needs"
            f" at least {APP_MIN_CPU}/{APP_MIN_MEMORY_MIB}: choose a larger Fargate size"
        )


ADMIN_KEYS_VARIABLE = "GATEWAY_API_KEYS"
"""Where the gateway reads its API keys (client:secret entries): from SSM or Secrets
Manager through the task's secrets, never from the template."""


def _check_edge_admin(config: StackConfig) -> None:
    gateway = config.manifest.gateway
    if not config.edge_admin:
        return
    if gateway is None:
        raise CfnConfigError("edge_admin needs a [gateway] in the manifest")
    if ADMIN_KEYS_VARIABLE not in config.secrets.get(gateway.name, {}):
        raise CfnConfigError(
            f"edge_admin routes admin RPCs behind API keys, but the gateway has no"
            f" {ADMIN_KEYS_VARIABLE} secret (ADMIN_API_KEYS=<SSM parameter or secret ARN>)"
        )


def _check_implementations(config: StackConfig) -> None:
    for name, impl in config.implementations.items():
        if impl == GO and config.storage == "dynamodb" and config.service(name).stateful:
            raise CfnConfigError(
                f"{name} runs its Go implementation (impl={config.impl or impl}), which keeps"
                " its data in SQLite only: storage='dynamodb' needs the Python one"
            )


def _check_secrets(config: StackConfig) -> None:
    processes = {spec.name for spec in config.manifest.services}
    if config.manifest.gateway is not None:
        processes.add(config.manifest.gateway.name)
    for process, variables in config.secrets.items():
        if process not in processes:
            raise CfnConfigError(f"secrets for {process!r}, which is no process of the manifest")
        for name, source in variables.items():
            if not ENV_NAME.match(name):
                raise CfnConfigError(f"{process}: secret variable {name!r} is not UPPER_SNAKE")
            if not (SSM_PARAMETER.match(source) or SECRET_ARN.match(source)):
                raise CfnConfigError(
                    f"{process}.{name}: {source!r} is neither an SSM parameter name or ARN"
                    " nor a Secrets Manager secret ARN"
                )
    for key in config.secrets_kms_keys:
        if not KMS_KEY_ARN.match(key):
            raise CfnConfigError(f"secrets_kms_keys: {key!r} is not a KMS key ARN")


def _check_manifest(manifest: Manifest) -> None:
    """Re-checks what a hand-built Manifest (not parsed from TOML) could get wrong."""
    started: set[str] = set()
    ports: dict[int, str] = {}
    for spec in manifest.services:
        room = LATTICE_NAME_MAX - ENVIRONMENT_NAME_MAX - 1
        if len(spec.name) > room:
            raise CfnConfigError(
                f"service name {spec.name!r} is longer than {room} characters: with a"
                f" {ENVIRONMENT_NAME_MAX}-character environment prefix it would exceed the"
                f" {LATTICE_NAME_MAX}-character VPC Lattice service name limit"
            )
        for dep in spec.depends_on:
            if dep not in started:
                # Stacks deploy in manifest order, so a dependency must come first; this
                # also rejects unknown names and cycles.
                known = any(other.name == dep for other in manifest.services)
                problem = "comes after it in the manifest" if known else "is not in the manifest"
                raise CfnConfigError(f"{spec.name} depends on {dep!r}, which {problem}")
        started.add(spec.name)
        for port in (spec.grpc_port, spec.health_port):
            if port in ports:
                raise CfnConfigError(f"port {port} used by {ports[port]} and {spec.name}")
            ports[port] = spec.name
