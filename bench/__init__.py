"""bin/bench: measured speed, memory and robustness figures (see bench/run.py)."""
