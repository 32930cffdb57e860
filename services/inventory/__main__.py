"""python -m services.inventory — the only place inventory reads its environment."""

import os
from collections.abc import Mapping

from services.inventory.app import build, build_rest
from services.runtime.config import data_dir_from_env, product_count_from_env
from services.runtime.main import Transports, service_main


def transports(env: Mapping[str, str]) -> Transports:
    database = data_dir_from_env(env) / "inventory.sqlite3"
    count = product_count_from_env(env)
    return Transports(grpc=build(database, count), rest=build_rest(database, count))


if __name__ == "__main__":
    service_main("inventory", os.environ, transports)
