"""Benchmarks of connector-host: ``python -m bench`` (``make bench``); see docs/benchmarks.md."""
