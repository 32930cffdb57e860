"""The local mesh: every service of the manifest as a child process of one runner.

``python -m runner run`` for people (see ``cli``); ``LocalMesh`` for tests and
the load test, over gRPC or as the REST/JSON baseline::

    async with LocalMesh(load_manifest(path), data_dir=tmp) as mesh:
        channel = grpc.aio.insecure_channel(mesh.address("catalog"))

    async with LocalMesh(load_manifest(path), data_dir=tmp, transport="rest") as mesh:
        url = mesh.rest_url("orders") + "/v1/orders"

``MeshGroup`` starts and stops several (a gRPC and a REST mesh) as one. ``impl="go"`` (or
``impl="pricing=go"``) runs the Go implementations the manifest lists instead of the
Python modules::

    async with LocalMesh(load_manifest(path), data_dir=tmp, impl="go") as mesh: ...

A process that exits on its own is restarted as ``restart_policy`` says (``RestartPolicy``;
``NO_RESTARTS`` turns it off); ``wait_for_exit`` returns when the mesh gives up on one.
"""

from runner.group import MeshGroup
from runner.impls import ImplementationError
from runner.outcomes import ServiceExit, ServiceFailed, StopReport
from runner.plan import GRPC, REST, TransportError, process_name
from runner.preflight import PortsInUse, PreflightError
from runner.restarts import DEFAULT_RESTART_POLICY, NO_RESTARTS, RestartPolicy
from runner.supervisor import LocalMesh

__all__ = [
    "DEFAULT_RESTART_POLICY",
    "GRPC",
    "NO_RESTARTS",
    "REST",
    "ImplementationError",
    "LocalMesh",
    "MeshGroup",
    "PortsInUse",
    "PreflightError",
    "RestartPolicy",
    "ServiceExit",
    "ServiceFailed",
    "StopReport",
    "TransportError",
    "process_name",
]
