"""Pieces of ``python -m tools.bench_runtime``: server arms, loaders, statistics, report."""
