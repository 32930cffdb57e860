"""python -m services.payments — the only place payments reads its environment."""

import os

from services.payments.app import build
from services.payments.config import payments_config_from_env
from services.runtime.server import service_main

if __name__ == "__main__":
    service_main("payments", os.environ, lambda env: build(payments_config_from_env(env)))
