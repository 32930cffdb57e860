"""python -m services.catalog — the only place catalog reads its environment."""

import os
from collections.abc import Mapping

from services.catalog.app import build, build_rest
from services.runtime.config import product_count_from_env
from services.runtime.main import Transports, service_main


def transports(env: Mapping[str, str]) -> Transports:
    count = product_count_from_env(env)
    return Transports(grpc=build(count), rest=build_rest(count))


if __name__ == "__main__":
    service_main("catalog", os.environ, transports)
