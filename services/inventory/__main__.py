"""python -m services.inventory — the only place inventory reads its environment."""

import os
from collections.abc import Mapping

from meshkit.runtime.main import Transports, service_main
from meshkit.storage.config import storage_from_env
from services.inventory.app import build, build_rest
from services.kernel.seed import product_count_from_env


def transports(env: Mapping[str, str]) -> Transports:
    storage = storage_from_env(env)
    count = product_count_from_env(env)
    return Transports(grpc=build(storage, count), rest=build_rest(storage, count))


if __name__ == "__main__":
    service_main("inventory", os.environ, transports)
