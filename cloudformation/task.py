"""A service's task: log group, execution and task roles, and the task definition.

The gRPC port mapping is named and carries ``AppProtocol: grpc`` (immutable once
created); the health port serves the plain HTTP ``/healthz`` that both the container
health check and the Lattice target group probe; StopTimeout covers drain + grace.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, ecs, iam, logs

from cloudformation.config import StackConfig
from cloudformation.names import ENVIRONMENT, Exports, imported
from cloudformation.policies import trust
from services.manifest import ServiceSpec
from services.runtime.config import ENV_PREFIX, dependency_env_name

IMAGE_TAG = "ImageTag"
GRPC_PORT_NAME = "grpc"
HEALTH_PORT_NAME = "health"
CONTAINER_HEALTH = {"interval": 10, "timeout": 5, "retries": 3, "start_period": 15}


def health_command(spec: ServiceSpec, path: str) -> list[str]:
    """The container health check: GET /healthz on the health port must answer 2xx.

    Python images have no curl, so Python services probe with the interpreter; a
    service in another language (no ``module``) is expected to ship ``wget``.
    """
    url = f"http://127.0.0.1:{spec.health_port}{path}"
    if spec.module:
        return ["CMD", "python", "-c", f"import urllib.request as u; u.urlopen({url!r}, timeout=3)"]
    return ["CMD-SHELL", f"wget -q -O /dev/null {url} || exit 1"]


def environment(spec: ServiceSpec, config: StackConfig) -> list[ecs.Environment]:
    """Drain timings (so StopTimeout is known to cover them), the manifest's extra
    variables, and each dependency's Service Connect address imported from its stack."""
    values: dict[str, object] = {
        f"{ENV_PREFIX}DRAIN_DELAY_S": f"{config.drain_delay_s:g}",
        f"{ENV_PREFIX}GRACE_S": f"{config.grace_s:g}",
        **spec.env,
    }
    for dep in spec.depends_on:
        # The import also orders the stacks: this one cannot exist before its dependency's.
        values[dependency_env_name(dep)] = imported(Exports.connect_endpoint(dep))
    return [ecs.Environment(Name=name, Value=value) for name, value in sorted(values.items())]


def add_task(template: Template, spec: ServiceSpec, config: StackConfig) -> ecs.TaskDefinition:
    """Adds the log group, both roles and the task definition of ``spec``."""
    log_group = template.add_resource(
        logs.LogGroup(
            "LogGroup",
            LogGroupName=Sub(f"/${{{ENVIRONMENT}}}/{spec.name}"),
            RetentionInDays=config.log_retention_days,
        )
    )
    execution_role = template.add_resource(
        iam.Role(
            "ExecutionRole",
            Description=f"ECS pulls the {spec.name} image and writes its logs",
            AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com"),
            Policies=[_execution_policy(spec, log_group)],
        )
    )
    task_role = template.add_resource(
        iam.Role(
            "TaskRole",
            Description=f"What {spec.name} itself may call on AWS (nothing yet)",
            AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com"),
        )
    )
    return template.add_resource(
        ecs.TaskDefinition(
            "TaskDefinition",
            Family=Sub(f"${{{ENVIRONMENT}}}-{spec.name}"),
            Cpu=str(config.cpu),
            Memory=str(config.memory_mib),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=config.architecture, OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[_container(spec, config, log_group)],
        )
    )


def _container(spec: ServiceSpec, config: StackConfig, log_group: logs.LogGroup) -> object:
    return ecs.ContainerDefinition(
        Name=spec.name,
        Image=Sub(f"${{Uri}}:${{{IMAGE_TAG}}}", Uri=imported(Exports.repository_uri(spec.name))),
        Essential=True,
        User=config.container_user,
        PortMappings=[
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
        Environment=environment(spec, config),
        HealthCheck=ecs.HealthCheck(
            Command=health_command(spec, config.health_path),
            Interval=CONTAINER_HEALTH["interval"],
            Timeout=CONTAINER_HEALTH["timeout"],
            Retries=CONTAINER_HEALTH["retries"],
            StartPeriod=CONTAINER_HEALTH["start_period"],
        ),
        StopTimeout=config.stop_timeout_s,
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": spec.name,
            },
        ),
    )


def _execution_policy(spec: ServiceSpec, log_group: logs.LogGroup) -> iam.Policy:
    """Pull this service's image and write to its log group: nothing else."""
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
                    "Resource": imported(Exports.repository_arn(spec.name)),
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": GetAtt(log_group, "Arn"),
                },
            ],
        },
    )
