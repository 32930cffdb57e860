"""python -m services.payments — the only place payments reads its environment."""

import os
from collections.abc import Mapping

from meshkit.runtime.main import Transports, service_main
from services.payments.app import build, build_rest
from services.payments.config import payments_config_from_env


def transports(env: Mapping[str, str]) -> Transports:
    config = payments_config_from_env(env)
    return Transports(grpc=build(config), rest=build_rest(config))


if __name__ == "__main__":
    service_main("payments", os.environ, transports)
