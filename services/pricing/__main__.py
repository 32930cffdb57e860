"""python -m services.pricing — the only place pricing reads its environment."""

import os
from collections.abc import Mapping

from meshkit.runtime.main import Transports, service_main
from services.kernel.seed import product_count_from_env
from services.pricing.app import build, build_rest


def transports(env: Mapping[str, str]) -> Transports:
    count = product_count_from_env(env)
    return Transports(grpc=build(count), rest=build_rest(count))


if __name__ == "__main__":
    service_main("pricing", os.environ, transports)
