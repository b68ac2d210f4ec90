"""Benchmarks of the assistant on this machine: `make bench` (or ./benchmarks/run.py) runs them."""
