"""Printed curl lines, for the gateway and for a REST mesh's services: each pastes into
bash as exactly its example's request (that each request works is checked against real
processes in tests/integration/test_mesh_runner_curl_examples.py and
test_mesh_runner_rest.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from meshkit.examples import NDJSON, CurlExample, load_examples
from meshkit.manifest import load_manifest
from runner import table

BASE = "http://127.0.0.1:8080"
REST_CASES = [
    (service, example) for service, examples in load_examples().rest.items() for example in examples
]


def _argv(command: str) -> list[str]:
    """The arguments bash passes to curl when ``command`` is pasted (curl just prints them)."""
    bash = shutil.which("bash")
    assert bash, "bash is needed to check the commands paste into bash"
    script = f"curl() {{ printf '%s\\0' \"$@\"; }}\nhead() {{ cat; }}\n{command}\n"
    done = subprocess.run([bash, "-c", script], capture_output=True, timeout=10, check=True)
    return done.stdout.decode().split("\0")[:-1]


def _after(words: list[str], flag: str) -> str | None:
    return words[words.index(flag) + 1] if flag in words else None


def _headers(words: list[str]) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words) if word == "-H"]


@pytest.mark.parametrize("example", load_examples().gateway, ids=lambda e: f"{e.method} {e.path}")
def test_curl_command_pastes_into_bash_as_the_example_request(example: CurlExample) -> None:
    """bash turns each printed curl line into exactly the example's URL, method, content
    type and body bytes, with -N for streamed replies."""
    words = _argv(table.curl_command(BASE, example))
    assert words[0] == ("-sN" if example.streams else "-s")
    assert [w for w in words if w.startswith("http")] == [BASE + example.path]
    body = _after(words, "-d") or _after(words, "--data-binary")
    assert body == example.data
    assert (body is not None) == (example.method == "POST")  # what curl infers, no -X
    assert "-X" not in words
    header = _after(words, "-H")
    assert header == (None if body is None else f"content-type: {example.content_type}")


@pytest.mark.parametrize(
    ("service", "example"), REST_CASES, ids=lambda c: c if isinstance(c, str) else c.path
)
def test_rest_curl_command_pastes_into_bash_as_the_example_request(
    service: str, example: CurlExample
) -> None:
    """bash turns each printed REST curl line into the example's URL, method (-X only for
    a POST without a body), headers in order and body bytes."""
    words = _argv(table.curl_command(BASE, example))
    assert words[0] == "-s"
    assert [w for w in words if w.startswith("http")] == [BASE + example.path]
    assert _after(words, "-d") == example.data
    assert _after(words, "-X") == (
        "POST" if example.method == "POST" and example.body is None else None
    )
    content_type = [] if example.body is None else [f"content-type: {example.content_type}"]
    assert _headers(words) == content_type + [f"{k}: {v}" for k, v in example.headers]


def test_example_bodies_are_compact_json_or_ndjson_lines() -> None:
    """A tuple body is NDJSON (one object per line, newline-terminated); a mapping is JSON."""
    for example in (*load_examples().gateway, *(example for _, example in REST_CASES)):
        if example.data is None:
            continue
        if example.content_type == NDJSON:
            assert example.data.endswith("\n")
            lines = [json.loads(line) for line in example.data.splitlines()]
            assert tuple(lines) == example.body
        else:
            assert json.loads(example.data) == example.body
            assert " " not in example.data


def test_curl_command_golden_lines_for_a_get_and_an_ndjson_post() -> None:
    """Golden lines: a query URL is single-quoted; an NDJSON body uses bash's $'...'."""
    listing = CurlExample("GET", "/v1/products?limit=3", note="stream", streams=True)
    assert table.curl_command(BASE, listing) == (
        "curl -sN 'http://127.0.0.1:8080/v1/products?limit=3'  # stream"
    )
    lines = CurlExample("POST", "/v1/quotes:stream", ({"a": "it's"}, {"b": "\\"}))
    assert table.curl_command(BASE, lines) == (
        "curl -s http://127.0.0.1:8080/v1/quotes:stream -H 'content-type: application/x-ndjson'"
        r""" --data-binary $'{"a":"it\'s"}\n{"b":"\\\\"}\n'"""
    )
    assert _after(_argv(table.curl_command(BASE, lines)), "--data-binary") == lines.data


def test_curl_command_golden_lines_for_a_header_and_a_bodyless_post() -> None:
    """Golden lines: extra headers follow the content type; a POST without a body says -X."""
    charge = CurlExample("POST", "/v1/charges", {"a": 1}, headers=(("Idempotency-Key", "k 1"),))
    assert table.curl_command(BASE, charge) == (
        "curl -s http://127.0.0.1:8080/v1/charges -H 'content-type: application/json'"
        """ -H 'Idempotency-Key: k 1' -d '{"a":1}'"""
    )
    release = CurlExample("POST", "/v1/reservations/k/release")
    assert table.curl_command(BASE, release) == (
        "curl -s -X POST http://127.0.0.1:8080/v1/reservations/k/release"
    )


def test_rest_examples_are_keyed_by_services_that_have_a_rest_port() -> None:
    """Every REST example belongs to a service of services/mesh.toml with a rest_port, and
    every such service has examples."""
    with_rest = {spec.name for spec in load_manifest().services if spec.rest_port}
    assert set(load_examples().rest) == with_rest
