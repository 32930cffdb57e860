"""python -m services.catalog — the only place catalog reads its environment."""

import os
from collections.abc import Mapping

from meshkit.runtime.main import Transports, service_main
from services.catalog.app import build, build_rest
from services.kernel.seed import product_count_from_env


def transports(env: Mapping[str, str]) -> Transports:
    count = product_count_from_env(env)
    return Transports(grpc=build(count), rest=build_rest(count))


if __name__ == "__main__":
    service_main("catalog", os.environ, transports)
