"""python -m services.pricing — the only place pricing reads its environment."""

import os

from services.pricing.app import build
from services.runtime.config import product_count_from_env
from services.runtime.server import service_main

if __name__ == "__main__":
    service_main("pricing", os.environ, lambda env: build(product_count_from_env(env)))
