"""What every ECS service of the mesh shares, the gRPC services and the gateway alike:
the image and task-count parameters, the rollout, the private network placement and
CPU target-tracking autoscaling."""

from __future__ import annotations

from typing import Any

from troposphere import (
    AWSHelperFn,
    AWSObject,
    GetAtt,
    Join,
    Parameter,
    Ref,
    Template,
    applicationautoscaling,
    ecs,
)

from cloudformation.config import StackConfig
from cloudformation.names import Exports, imported, imported_list
from cloudformation.storage import uses_table
from cloudformation.task import IMAGE_TAG
from meshkit.manifest import ServiceSpec

DESIRED = "DesiredCount"
MIN = "MinCount"
MAX = "MaxCount"
SCALE_IN_COOLDOWN_S = 120
SCALE_OUT_COOLDOWN_S = 30
SCALING_DEFAULTS = (2, 10)
"""Desired (and fewest) and most tasks of a service that keeps no local state."""
SINGLE_TASK = (1, 1)
"""A service whose data sits on its task's disk (SQLite) cannot run twice."""


def runs_single_task(spec: ServiceSpec, config: StackConfig) -> bool:
    """Whether ``spec`` must run as exactly one task: it coordinates in its own memory
    (the manifest's single_task), or keeps its data on the task's disk (SQLite)."""
    return spec.single_task or (spec.stateful and not uses_table(spec, config))


def add_image_parameter(template: Template, name: str) -> None:
    """ImageTag: the tag of ``name``'s image to run."""
    template.add_parameter(
        Parameter(
            IMAGE_TAG,
            Type="String",
            AllowedPattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
            Description=f"Tag of the {name} image to run (tags are immutable)",
        )
    )


def add_parameters(template: Template, name: str, counts: tuple[int, int]) -> None:
    """ImageTag, and DesiredCount/MinCount/MaxCount defaulting to ``counts``
    (desired and min, max)."""
    desired, high = counts
    add_image_parameter(template, name)
    for key, default, text in (
        (DESIRED, desired, "Tasks to start with"),
        (MIN, desired, "Fewest tasks autoscaling keeps"),
        (MAX, high, "Most tasks autoscaling starts"),
    ):
        template.add_parameter(
            Parameter(key, Type="Number", Default=default, MinValue=1, Description=text)
        )


def deployment(single: bool) -> ecs.DeploymentConfiguration:
    """Rolling, never below the desired count, or for a service that must run as one task
    stop-then-start (never two tasks with separate state at once); a failing rollout
    rolls itself back either way."""
    return ecs.DeploymentConfiguration(
        DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
        MaximumPercent=100 if single else 200,
        MinimumHealthyPercent=0 if single else 100,
    )


def fargate() -> list[ecs.CapacityProviderStrategyItem]:
    """On-demand Fargate (the cluster also offers Spot, for whoever opts in)."""
    return [ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)]


def private_network(own_group: AWSHelperFn) -> ecs.NetworkConfiguration:
    """Tasks in the private subnets, in their own group and the mesh's task group (the
    source Service Connect servers admit; it admits nothing itself)."""
    return ecs.NetworkConfiguration(
        AwsvpcConfiguration=ecs.AwsvpcConfiguration(
            AssignPublicIp="DISABLED",
            Subnets=imported_list(Exports.PRIVATE_SUBNETS),
            SecurityGroups=[own_group, imported(Exports.TASK_SECURITY_GROUP)],
        )
    )


def add_service(
    template: Template,
    config: StackConfig,
    name: str,
    task: ecs.TaskDefinition,
    own_group: AWSHelperFn,
    depends_on: AWSObject,
    *,
    single: bool = False,
    **specifics: Any,
) -> ecs.Service:
    """The ECS service ``name`` on Fargate in the private subnets, with the shared rollout
    (``single``: one task, never two at once), health-check grace, tags and autoscaling;
    ``specifics`` are what only this service has (load balancers, Service Connect,
    Lattice); it starts once ``depends_on`` exists."""
    service = template.add_resource(
        ecs.Service(
            "Service",
            DependsOn=[depends_on],
            ServiceName=name,
            Cluster=imported(Exports.CLUSTER_ARN),
            TaskDefinition=Ref(task),
            DesiredCount=Ref(DESIRED),
            CapacityProviderStrategy=fargate(),
            DeploymentConfiguration=deployment(single),
            HealthCheckGracePeriodSeconds=config.health_check_grace_s,
            NetworkConfiguration=private_network(own_group),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            **specifics,
        )
    )
    add_autoscaling(template, config, service)
    return service


def add_autoscaling(template: Template, config: StackConfig, service: ecs.Service) -> None:
    """CPU target tracking between MinCount and MaxCount."""
    target = template.add_resource(
        applicationautoscaling.ScalableTarget(
            "ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join(
                "/", ["service", imported(Exports.CLUSTER_NAME), GetAtt(service, "Name")]
            ),
            MinCapacity=Ref(MIN),
            MaxCapacity=Ref(MAX),
        )
    )
    template.add_resource(
        applicationautoscaling.ScalingPolicy(
            "CpuScalingPolicy",
            PolicyName="cpu-target-tracking",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=(
                applicationautoscaling.TargetTrackingScalingPolicyConfiguration(
                    PredefinedMetricSpecification=applicationautoscaling.PredefinedMetricSpecification(
                        PredefinedMetricType="ECSServiceAverageCPUUtilization"
                    ),
                    TargetValue=config.scaling_cpu_target,
                    ScaleInCooldown=SCALE_IN_COOLDOWN_S,
                    ScaleOutCooldown=SCALE_OUT_COOLDOWN_S,
                )
            ),
        )
    )
