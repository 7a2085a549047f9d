"""Benchmarks of ccframe (see BENCHMARKS.md); a package so the harness and its tests can import them."""
