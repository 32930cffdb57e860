"""The local mesh: every service of the manifest as a child process of one runner.

``python -m services.mesh run`` for people (see ``cli``); ``LocalMesh`` for tests and
the load test::

    async with LocalMesh(load_manifest(path), data_dir=tmp) as mesh:
        channel = grpc.aio.insecure_channel(mesh.address("catalog"))
"""

from services.mesh.outcomes import ServiceExit, ServiceFailed, StopReport
from services.mesh.preflight import PortsInUse, PreflightError
from services.mesh.supervisor import LocalMesh

__all__ = [
    "LocalMesh",
    "PortsInUse",
    "PreflightError",
    "ServiceExit",
    "ServiceFailed",
    "StopReport",
]
