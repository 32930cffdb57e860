"""The operator stack: the way in to the mesh's VPC Lattice services for a person.

Lattice services answer only inside VPCs associated with the service network, and only
SigV4-signed calls. This stack defines a task (no ECS service: nothing runs, nothing
costs, until someone starts one) of the operator image, which is the shared image plus
grpcurl and the SigV4 proxy. Run in the private subnets with the mesh's task security
group (which the service network's VPC association admits), its role may invoke the
mesh's Lattice services and open ECS Exec sessions. ``make deploy`` prints the commands:
run the task, open a shell in it with ECS Exec, call a service through the proxy with
grpcurl; the task stops by itself after ``SESSION_S``. docs/AWS.md, "Operator access".
"""

from __future__ import annotations

from dataclasses import replace

from troposphere import Output, Ref, Sub, Template, ecs, iam, logs

from cloudformation.config import StackConfig, validate
from cloudformation.fargate import add_image_parameter
from cloudformation.names import ENVIRONMENT, Exports, add_environment, imported
from cloudformation.policies import INVOKE
from cloudformation.task import add_task_definition, container_logs, image

OPERATOR = "operator"
"""The operator image's and container's name."""
OPERATOR_CPU = 256
OPERATOR_MEMORY_MIB = 512
"""A shell, grpcurl and the proxy: the smallest Fargate size (no Service Connect proxy:
the task is no ECS service)."""
SESSION_S = 3600
"""How long an operator task lives: it stops by itself, so a forgotten one costs an hour."""
EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the task role needs for ECS Exec (the session runs over Session Manager)."""
TASK_DEFINITION_OUTPUT = "OperatorTaskDefinition"


def build_operator(config: StackConfig) -> Template:
    """The operator's task definition, its roles and its log group."""
    validate(config)
    template = Template(
        Description=f"{config.manifest.name}: operator task (grpcurl and SigV4 into Lattice)"
    )
    add_environment(template, config.manifest.name)
    add_image_parameter(template, OPERATOR)
    task = add_task_definition(
        template,
        OPERATOR,
        replace(config, tracing=False),  # a shell has no spans to send
        _container,
        task_policies=[_invoke_policy(config), _exec_policy()],
        size=(OPERATOR_CPU, OPERATOR_MEMORY_MIB),
    )
    template.add_output(
        Output(
            TASK_DEFINITION_OUTPUT,
            Value=Sub(f"${{{ENVIRONMENT}}}-{OPERATOR}"),
            Description="Task definition family to run for an operator shell (ECS Exec)",
        )
    )
    template.add_output(Output("OperatorTaskDefinitionArn", Value=Ref(task)))
    return template


def _container(log_group: logs.LogGroup) -> ecs.ContainerDefinition:
    return ecs.ContainerDefinition(
        Name=OPERATOR,
        Image=image(OPERATOR),
        Essential=True,
        Command=["sleep", str(SESSION_S)],
        # ECS Exec's agent and a shell's children are reaped by a proper init.
        LinuxParameters=ecs.LinuxParameters(InitProcessEnabled=True),
        Environment=[ecs.Environment(Name="AWS_REGION", Value=Ref("AWS::Region"))],
        LogConfiguration=container_logs(log_group, OPERATOR),
    )


def _invoke_policy(config: StackConfig) -> iam.Policy:
    """Invoke the mesh's Lattice services (their auth policies must admit this role too:
    the default consumer principal, the account, does)."""
    services = [
        Sub("${Arn}/*", Arn=imported(Exports.lattice_arn(spec.name)))
        for spec in config.manifest.services
    ]
    return iam.Policy(
        PolicyName="invoke-lattice-services",
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": INVOKE, "Resource": services}],
        },
    )


def _exec_policy() -> iam.Policy:
    # The Session Manager channel actions have no resource-level permissions.
    return iam.Policy(
        PolicyName="ecs-exec-session",
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(EXEC_ACTIONS), "Resource": "*"}],
        },
    )
