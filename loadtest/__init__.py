"""The load-test suite: gRPC mesh vs the REST baseline, chattiness and latency, measured.

``python -m loadtest`` (see ``loadtest/cli.py``); the method is in docs/LOADTEST.md.
"""
