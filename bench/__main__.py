"""`python -m bench`: every benchmark in one run; see bench/run.py and bench/README.md."""

from bench.run import main

main()
