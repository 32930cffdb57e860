"""Writes every stack's template as JSON and YAML (``python -m cloudformation synth``)."""

from __future__ import annotations

from pathlib import Path

from cloudformation.config import StackConfig
from cloudformation.plan import deploy_order


def synth(config: StackConfig, out: Path) -> list[Path]:
    """Writes ``<key>.json`` and ``<key>.yaml`` per stack into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stack in deploy_order(config):
        template = stack.build()
        for suffix, text in (("json", template.to_json()), ("yaml", template.to_yaml())):
            path = out / f"{stack.key}.{suffix}"
            path.write_text(text + "\n", encoding="utf-8")
            written.append(path)
    return written
