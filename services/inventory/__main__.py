"""python -m services.inventory — the only place inventory reads its environment."""

import os

from services.inventory.app import build
from services.runtime.config import data_dir_from_env, product_count_from_env
from services.runtime.server import service_main

if __name__ == "__main__":
    service_main(
        "inventory",
        os.environ,
        lambda env: build(
            data_dir_from_env(env) / "inventory.sqlite3", product_count_from_env(env)
        ),
    )
