"""Benchmarks: ``python -m benchmarks [--quick]`` prints one Markdown table (see README)."""
