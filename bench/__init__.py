"""The benchmark suite (issue 7): ``make bench`` runs ``bench/run.py``, never the test suite."""
