"""hushmic benchmarks. `python -m bench` runs them all; each also runs alone as `python -m bench.NAME`.

Every benchmark prints a table on stderr and one JSON object on stdout, quotes medians, and measures its
baselines in the same run.
"""
