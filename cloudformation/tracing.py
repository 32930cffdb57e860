"""The optional ADOT collector sidecar (``StackConfig.tracing``): traces to AWS X-Ray.

With tracing on, every task gets a second, non-essential container running the AWS
Distro for OpenTelemetry collector with its built-in traces-only ECS configuration
(OTLP on localhost:4317 → X-Ray). The app container exports OTLP to it through the
standard ``OTEL_*`` variables (meshkit/runtime/tracing.py ``tracing_from_env``) and
starts after it. Non-essential: a collector that dies costs traces, never the task.
With tracing off nothing here reaches a template.
"""

from __future__ import annotations

from troposphere import ecs, iam

from cloudformation.config import StackConfig

COLLECTOR = "aws-otel-collector"
COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
"""Pinned: a moving tag would change what runs without a template change."""
COLLECTOR_CONFIG = "/etc/ecs/ecs-xray.yaml"
"""Shipped in the image: OTLP gRPC/HTTP receivers, ECS resource detection, X-Ray export.
(``ecs-default-config.yaml`` also exports metrics through EMF, which would need log
permissions for metrics nobody sends.)"""
OTLP_ENDPOINT = "http://localhost:4317"
"""Containers of a task share its network namespace (awsvpc)."""
XRAY_ACTIONS = (
    "xray:GetSamplingRules",
    "xray:GetSamplingStatisticSummaries",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)


def tracing_environment(process: str, config: StackConfig) -> dict[str, str]:
    """The app's OTEL_* variables pointing at the sidecar; none with tracing off."""
    if not config.tracing:
        return {}
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_ENDPOINT,
        "OTEL_SERVICE_NAME": process,
    }


def collector_dependency() -> list[ecs.ContainerDependency]:
    """The app starts once the collector has started, so early spans have a receiver."""
    return [ecs.ContainerDependency(ContainerName=COLLECTOR, Condition="START")]


def collector_container(
    config: StackConfig, logging: ecs.LogConfiguration
) -> ecs.ContainerDefinition:
    """The sidecar: pinned image, hard CPU/memory share, its own log stream prefix.
    The image runs as its own non-root user."""
    return ecs.ContainerDefinition(
        Name=COLLECTOR,
        Image=COLLECTOR_IMAGE,
        Essential=False,
        Command=[f"--config={COLLECTOR_CONFIG}"],
        Cpu=config.collector_cpu,
        Memory=config.collector_memory_mib,
        LogConfiguration=logging,
    )


def xray_policy() -> iam.Policy:
    """What the collector does on X-Ray with the task role: write segments and telemetry,
    read sampling rules."""
    return iam.Policy(
        PolicyName="xray-write",
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                # X-Ray supports no resource-level permissions for these actions: AWS
                # documents Resource "*" (the AWSXRayDaemonWriteAccess policy does the same).
                {"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}
            ],
        },
    )
