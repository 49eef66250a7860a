"""Reports, pure: periods, call and lead facts, additive counts, rollup folding, money.

Nothing here reads a database or a clock. Services turn rows into facts (`facts.py`), fold
them into additive counts keyed by day and dimension (`rollup.py`), and the same counts
are summed whether they come from the rollup tables or straight from the calls.
"""
