"""Fixtures shared by the integration tests."""

from tests.integration.runner_harness import start_runner  # noqa: F401 - a shared fixture
