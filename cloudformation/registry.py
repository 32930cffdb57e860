"""The registry stack: one ECR repository per manifest service and one for the gateway.

Tags are immutable (a deployed tag always names the same image), every push is scanned,
and a lifecycle policy bounds what the repositories keep.
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Sub, Template, ecr

from cloudformation.config import StackConfig, validate
from cloudformation.names import ENVIRONMENT, Exports, add_environment, export, logical_id
from cloudformation.operator import OPERATOR


def image_names(config: StackConfig) -> tuple[str, ...]:
    """Every image the mesh runs: each manifest service, then the gateway if any, then
    the operator's with the operator stack."""
    names = tuple(spec.name for spec in config.manifest.services)
    gateway = config.manifest.gateway
    edge = (gateway.name,) if gateway is not None else ()
    return (*names, *edge, *((OPERATOR,) if config.operator else ()))


def lifecycle_policy(config: StackConfig) -> str:
    """Expire untagged images after some days; keep only the newest tagged ones."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images after {config.untagged_image_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": config.untagged_image_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the newest {config.images_kept} images",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": config.images_kept,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


def build_registry(config: StackConfig) -> Template:
    """One scanned, immutable-tag ECR repository per image of the mesh."""
    validate(config)
    template = Template(Description=f"{config.manifest.name}: container image repositories")
    add_environment(template, config.manifest.name)
    policy = lifecycle_policy(config)
    for name in image_names(config):
        repository = template.add_resource(
            ecr.Repository(
                f"{logical_id(name)}Repository",
                RepositoryName=Sub(f"${{{ENVIRONMENT}}}/{name}"),
                ImageTagMutability="IMMUTABLE",
                ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
                EncryptionConfiguration=ecr.EncryptionConfiguration(EncryptionType="AES256"),
                LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=policy),
            )
        )
        export(
            template,
            Exports.repository_uri(name),
            GetAtt(repository, "RepositoryUri"),
            f"Image repository of {name}",
        )
        export(
            template,
            Exports.repository_arn(name),
            GetAtt(repository, "Arn"),
            f"ARN of the image repository of {name} (scopes the execution role's pulls)",
        )
    return template
