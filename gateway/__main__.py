"""python -m gateway — the only place the gateway reads its environment."""

import os
import sys

from gateway.config import gateway_config_from_env
from gateway.server import run
from meshkit.env import ConfigError
from meshkit.manifest import ManifestError, load_manifest

if __name__ == "__main__":
    try:
        config = gateway_config_from_env(load_manifest(), os.environ)
    except (ConfigError, ManifestError) as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    run(config)
