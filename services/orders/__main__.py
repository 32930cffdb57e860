"""python -m services.orders — the only place orders reads its environment."""

import os

from services.orders.app import build
from services.orders.config import orders_config_from_env
from services.runtime.server import service_main

if __name__ == "__main__":
    service_main("orders", os.environ, lambda env: build(orders_config_from_env(env)))
