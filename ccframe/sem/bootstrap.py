"""Nonparametric bootstrap of the standardised estimates, in parallel on all cores (joblib).

Each draw resamples the respondents with replacement, refits the spec and keeps
every parameter's ``std_all``; percentile intervals come from the draws that
converged to a proper solution. A draw whose fit failed, or whose solution is
improper (a standardised value that is not a number: an error variance at its
bound of 0, the Heywood case), is counted in ``failed`` and left out. Draw k uses its
own random stream, spawned from one ``SeedSequence``, so the result does not
depend on how many workers ran or how the draws were split among them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ccframe.sem.spec import SemSpec, load_spec

KEY_COLUMNS = ("lhs", "op", "rhs", "label")


@dataclass
class Bootstrap:
    """Per parameter: the estimate, the bootstrap SD and percentile CI; plus the run's bookkeeping."""

    table: pl.DataFrame
    draws: int
    failed: int
    n_jobs: int
    seconds: float
    processes: int
    """How many distinct worker processes fitted draws (all cores in use: equals ``n_jobs``)."""


def bootstrap(spec: SemSpec | str | dict, values: np.ndarray, *, draws: int = 1000, seed: int = 0,
              level: float = 0.95, n_jobs: int = -1, n_minus_one: bool = False, chunk: int | None = None,
              progress: Callable[[int, int], None] | None = None, base: Any = None) -> Bootstrap:
    """Bootstrap ``draws`` refits of ``spec`` on resampled rows of ``values`` (columns = spec items).

    ``n_jobs=-1`` uses every core (joblib's loky processes). ``progress(done, total)``
    is called at every tenth of the draws done. ``chunk`` draws go to a worker at a time
    (default: up to 25, small enough that every worker gets about four chunks).
    ``base`` is the fit of ``spec`` to ``values`` when the caller has it already
    (a :class:`ccframe.sem.fit.SemResult` with the same ``n_minus_one``); else it is fitted here.
    """
    from joblib import Parallel, cpu_count, delayed

    from ccframe.sem.fit import fit_matrix

    spec = load_spec(spec)
    if draws < 2:
        raise ValueError(f"draws: expected at least 2 bootstrap draws, got {draws}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a confidence level in (0, 1), got {level}")
    started = time.perf_counter()
    if base is None:
        base = fit_matrix(spec, values, n_minus_one=n_minus_one)
    free = base.estimates.filter(pl.col("free"))
    keys = free.select(KEY_COLUMNS)
    streams = np.random.SeedSequence(seed).spawn(draws)
    workers = cpu_count() if n_jobs == -1 else max(1, min(int(n_jobs), cpu_count()))
    chunk = chunk or max(1, min(25, draws // (4 * workers)))
    batches = [streams[i:i + chunk] for i in range(0, draws, chunk)]
    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    results = []
    pids = set()
    done = shown = 0
    for first, block, pid in parallel(delayed(_draw_block)(spec, values, batch, i * chunk, n_minus_one, keys)
                                      for i, batch in enumerate(batches)):
        results.append((first, block))
        pids.add(pid)
        done += block.shape[0]
        if progress and (done == draws or 10 * done // draws > shown):
            shown = 10 * done // draws
            progress(done, draws)
    samples = np.vstack([block for _, block in sorted(results, key=lambda r: r[0])])
    ok = np.all(np.isfinite(samples), axis=1)
    good = samples[ok]
    alpha = (1 - level) / 2
    if good.shape[0] >= 2:
        low, high = np.quantile(good, [alpha, 1 - alpha], axis=0)
        sd = good.std(axis=0, ddof=1)
    else:
        low = high = sd = np.full(samples.shape[1], np.nan)
    table = free.select(*KEY_COLUMNS, "std_all").with_columns(
        boot_sd=pl.Series(sd), ci_lower=pl.Series(low), ci_upper=pl.Series(high))
    return Bootstrap(table=table, draws=draws, failed=int((~ok).sum()), n_jobs=workers,
                     seconds=time.perf_counter() - started, processes=len(pids))


def _draw_block(spec: SemSpec, values: np.ndarray, streams: list[np.random.SeedSequence], first: int,
                n_minus_one: bool, keys: pl.DataFrame) -> tuple[int, np.ndarray, int]:
    """Refit on one resample per stream; one row of std_all values (NaN if the fit failed) per draw.

    Returns the index of the first draw, the rows, and the worker's process id.
    """
    from ccframe.sem.fit import fit_matrix

    n = values.shape[0]
    out = np.full((len(streams), keys.height), np.nan)
    for row, stream in enumerate(streams):
        sample = values[np.random.default_rng(stream).integers(0, n, n)]
        if np.any(sample.std(axis=0) == 0):
            continue  # a resample with a constant item cannot be fitted
        try:
            result = fit_matrix(spec, sample, n_minus_one=n_minus_one)
        except (np.linalg.LinAlgError, ValueError):
            continue
        if not result.converged:
            continue
        est = keys.join(result.estimates.filter(pl.col("free")).select(*KEY_COLUMNS, "std_all"),
                        on=list(KEY_COLUMNS), how="left", nulls_equal=True)
        out[row] = est["std_all"].to_numpy()
    return first, out, os.getpid()


def print_progress(done: int, total: int) -> None:
    """A progress line on stderr."""
    print(f"bootstrap: {done}/{total} draws", file=sys.stderr, flush=True)
