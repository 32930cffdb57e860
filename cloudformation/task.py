"""A service's task: log group, execution and task roles, and the task definition.

The gRPC port mapping is named and carries ``AppProtocol: grpc`` (immutable once
created); the health port serves the plain HTTP ``/healthz`` that both the container
health check and the Lattice target group probe; StopTimeout covers drain + grace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from troposphere import GetAtt, Join, Ref, Sub, Template, ecs, iam, logs

from cloudformation.config import StackConfig
from cloudformation.names import ENVIRONMENT, Exports, imported
from cloudformation.policies import trust
from cloudformation.secrets import container_secrets, secrets_policy
from cloudformation.storage import table_environment, table_policy
from cloudformation.tracing import (
    COLLECTOR,
    collector_container,
    collector_dependency,
    tracing_environment,
    xray_policy,
)
from meshkit.env import ENV_PREFIX, dependency_env_name
from meshkit.manifest import GO, ServiceSpec

IMAGE_TAG = "ImageTag"
LOG_GROUP = "LogGroup"
GO_HEALTHCHECK_FLAG = "--healthcheck"
"""Makes a Go service's binary GET its own /healthz and exit 0 on 200 (its image is
scratch: no shell, no curl, no interpreter; the binary is /<service>)."""
GRPC_PORT_NAME = "grpc"
HEALTH_PORT_NAME = "health"
CONTAINER_HEALTH = {"interval": 10, "timeout": 5, "retries": 3, "start_period": 15}


def health_command(spec: ServiceSpec, config: StackConfig) -> list[str]:
    """The container health check, liveness on the health port: the Go binary probes it
    itself (its image has no shell), Python with the interpreter, another language with
    the wget its image is expected to ship."""
    if config.implementations[spec.name] == GO:
        return ["CMD", f"/{spec.name}", GO_HEALTHCHECK_FLAG]
    return http_probe(spec.health_port, config.health_path, python=bool(spec.module))


def http_probe(port: int, path: str, *, python: bool) -> list[str]:
    """A container health check that GETs ``path`` on ``port`` and wants a 2xx.

    Python images have no curl, so Python processes probe with the interpreter; a
    process in another language is expected to ship ``wget``.
    """
    url = f"http://127.0.0.1:{port}{path}"
    if python:
        return ["CMD", "python", "-c", f"import urllib.request as u; u.urlopen({url!r}, timeout=3)"]
    return ["CMD-SHELL", f"wget -q -O /dev/null {url} || exit 1"]


def environment(spec: ServiceSpec, config: StackConfig) -> dict[str, object]:
    """Drain timings (so StopTimeout is known to cover them), the stream heartbeat (so the
    proxies' idle timeouts are known to span it), the manifest's extra variables, and each
    dependency's Service Connect address."""
    values: dict[str, object] = {
        f"{ENV_PREFIX}DRAIN_DELAY_S": f"{config.drain_delay_s:g}",
        f"{ENV_PREFIX}GRACE_S": f"{config.grace_s:g}",
        f"{ENV_PREFIX}STREAM_HEARTBEAT_S": f"{config.stream_heartbeat_s:g}",
        **spec.env,
        **table_environment(spec, config),
    }
    for dep in spec.depends_on:
        # The import also orders the stacks: this one cannot exist before its dependency's.
        values[dependency_env_name(dep)] = connect_address(dep, config)
    return values


def connect_address(dependency: str, config: StackConfig) -> Join:
    """``<name>:<port>`` of a dependency inside the Service Connect namespace: the name
    imported from its stack (so this stack comes after it and it cannot go while this one
    stays), the port from the manifest (an import of a port would freeze it)."""
    port = config.service(dependency).grpc_port
    return Join(":", [imported(Exports.connect_name(dependency)), str(port)])


ContainerFactory = Callable[[logs.LogGroup], ecs.ContainerDefinition]


def add_task(template: Template, spec: ServiceSpec, config: StackConfig) -> ecs.TaskDefinition:
    """Adds the log group, both roles and the task definition of ``spec``."""
    policy = table_policy(spec, config)
    return add_task_definition(
        template,
        spec.name,
        config,
        lambda log_group: _container(spec, config, log_group),
        task_policies=[policy] if policy is not None else [],
    )


def add_task_definition(
    template: Template,
    name: str,
    config: StackConfig,
    container: ContainerFactory,
    task_policies: Sequence[iam.Policy] = (),
    size: tuple[int, int] | None = None,
) -> ecs.TaskDefinition:
    """Adds a log group, the execution role (pull ``name``'s image, write its logs, read
    its configured secrets), the task role (``task_policies``, X-Ray with tracing, and
    nothing else) and a Fargate task definition of the container ``container`` builds
    around the log group, plus the collector sidecar with tracing. ``size`` (CPU units,
    MiB) overrides the services' task size."""
    cpu, memory = size or (config.cpu, config.memory_mib)
    log_group = template.add_resource(
        logs.LogGroup(
            LOG_GROUP,
            LogGroupName=Sub(f"/${{{ENVIRONMENT}}}/{name}"),
            RetentionInDays=config.log_retention_days,
        )
    )
    execution_role = template.add_resource(
        iam.Role(
            "ExecutionRole",
            Description=f"ECS pulls the {name} image and writes its logs",
            AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com"),
            Policies=[_execution_policy(name, log_group), *secrets_policy(name, config)],
        )
    )
    task_policies = [*task_policies, *([xray_policy()] if config.tracing else [])]
    task_role = iam.Role(
        "TaskRole",
        Description=f"What {name} itself may call on AWS"
        + (": its policies, nothing else" if task_policies else " (nothing yet)"),
        AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com"),
    )
    if task_policies:
        task_role.Policies = list(task_policies)
    template.add_resource(task_role)
    return template.add_resource(
        ecs.TaskDefinition(
            "TaskDefinition",
            Family=Sub(f"${{{ENVIRONMENT}}}-{name}"),
            Cpu=str(cpu),
            Memory=str(memory),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=config.architecture, OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[
                container(log_group),
                *(
                    [collector_container(config, container_logs(log_group, COLLECTOR))]
                    if config.tracing
                    else []
                ),
            ],
        )
    )


def container_health(command: list[str]) -> ecs.HealthCheck:
    """The container HealthCheck with the shared timings."""
    return ecs.HealthCheck(
        Command=command,
        Interval=CONTAINER_HEALTH["interval"],
        Timeout=CONTAINER_HEALTH["timeout"],
        Retries=CONTAINER_HEALTH["retries"],
        StartPeriod=CONTAINER_HEALTH["start_period"],
    )


def container_logs(log_group: logs.LogGroup | str, stream_prefix: str) -> ecs.LogConfiguration:
    """awslogs into ``log_group`` (also the Service Connect proxy's, by prefix)."""
    return ecs.LogConfiguration(
        LogDriver="awslogs",
        Options={
            "awslogs-group": Ref(log_group),
            "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": stream_prefix,
        },
    )


def image(name: str) -> Sub:
    """``name``'s repository URI at the ImageTag parameter."""
    return Sub(f"${{Uri}}:${{{IMAGE_TAG}}}", Uri=imported(Exports.repository_uri(name)))


def _container(
    spec: ServiceSpec, config: StackConfig, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    return app_container(
        spec.name,
        config,
        log_group,
        port_mappings=[
            ecs.PortMapping(
                Name=GRPC_PORT_NAME,
                ContainerPort=spec.grpc_port,
                Protocol="tcp",
                AppProtocol="grpc",
            ),
            ecs.PortMapping(
                Name=HEALTH_PORT_NAME,
                ContainerPort=spec.health_port,
                Protocol="tcp",
                AppProtocol="http",
            ),
        ],
        environment=environment(spec, config),
        health=health_command(spec, config),
    )


def app_container(
    name: str,
    config: StackConfig,
    log_group: logs.LogGroup,
    *,
    port_mappings: list[ecs.PortMapping],
    environment: Mapping[str, object],
    health: list[str],
) -> ecs.ContainerDefinition:
    """Process ``name``'s essential container: its image, non-root, ``environment`` (plus
    the OTEL_* variables with tracing), its secrets, health check, StopTimeout, logs."""
    values = {**environment, **tracing_environment(name, config)}
    container = ecs.ContainerDefinition(
        Name=name,
        Image=image(name),
        Essential=True,
        User=config.container_user,
        PortMappings=port_mappings,
        Environment=[ecs.Environment(Name=k, Value=v) for k, v in sorted(values.items())],
        HealthCheck=container_health(health),
        StopTimeout=config.stop_timeout_s,
        LogConfiguration=container_logs(log_group, name),
    )
    # Set only when present, so templates without secrets or tracing stay as they were.
    secrets = container_secrets(name, config, values)
    if secrets:
        container.Secrets = secrets
    if config.tracing:
        container.DependsOn = collector_dependency()
    return container


def _execution_policy(name: str, log_group: logs.LogGroup) -> iam.Policy:
    """Pull this image and write to its log group: nothing else."""
    return iam.Policy(
        PolicyName="pull-image-write-logs",
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                # GetAuthorizationToken has no resource-level permissions.
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    "Resource": imported(Exports.repository_arn(name)),
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": GetAtt(log_group, "Arn"),
                },
            ],
        },
    )
