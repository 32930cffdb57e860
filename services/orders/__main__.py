"""python -m services.orders — the only place orders reads its environment."""

import os
from collections.abc import Mapping

from meshkit.runtime.main import Transports, service_main
from services.orders.app import build, build_rest
from services.orders.config import orders_config_from_env


def transports(env: Mapping[str, str]) -> Transports:
    config = orders_config_from_env(env)
    return Transports(grpc=build(config), rest=build_rest(config))


if __name__ == "__main__":
    service_main("orders", os.environ, transports)
