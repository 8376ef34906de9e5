"""Benchmarks of the LaunchDarkly provider; run them all with ``make bench`` (see ``benchmarks/run.py``)."""
