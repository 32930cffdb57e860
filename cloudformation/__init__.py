"""CloudFormation for the mesh (troposphere): pure stack builders driven by the manifest.

Each ``build_<stack>(config) -> Template`` is a pure function of a ``StackConfig``;
``deploy_order`` lists the stacks as they must deploy; ``synth`` writes them out.
"""

from cloudformation.config import CfnConfigError, StackConfig, validate
from cloudformation.edge import build_edge
from cloudformation.mesh import build_mesh
from cloudformation.network import build_network
from cloudformation.plan import Stack, deploy_order
from cloudformation.registry import build_registry
from cloudformation.service import build_service
from cloudformation.storage import build_storage

__all__ = [
    "CfnConfigError",
    "Stack",
    "StackConfig",
    "build_edge",
    "build_mesh",
    "build_network",
    "build_registry",
    "build_service",
    "build_storage",
    "deploy_order",
    "validate",
]
