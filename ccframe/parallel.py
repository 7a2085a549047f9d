"""A parallel sweep's worker processes: their share of the cores, and a joblib pool started early.

Hydra's joblib launcher starts its workers (loky processes, each a fresh interpreter) only
when it launches the jobs; each then imports ccframe, Hydra, Mesa, Polars and matplotlib
(about 2 s) before its first job. ``python -m ccframe -m ... hydra/launcher=joblib`` starts
them at once instead, from a background thread, with the arguments the launcher will use,
so loky's reusable executor hands the launcher the same workers, their imports done or under
way. Only when the command line sets no launcher option but ``n_jobs``: with others loky
would start a fresh set of workers, and the warm-up would be wasted. A sweep that the
pre-check refuses exits once the warm-up is done (within about 2 s). Once the sweep is
done, its idle workers are ended at once (:func:`release_workers`).
"""

from __future__ import annotations

import threading

from ccframe.argv import NO_PREFLIGHT, parallel_workers, typed_values

#: The arguments Hydra's joblib launcher passes to ``joblib.Parallel`` besides ``n_jobs`` when
#: its config is left alone: ``JobLibLauncherConf``'s defaults with the launcher's backend,
#: written out because importing Hydra's plugin here would race the main thread's import of Hydra.
LAUNCHER_DEFAULTS = {"backend": "loky", "prefer": "processes", "require": None, "verbose": 0,
                     "timeout": None, "pre_dispatch": "2*n_jobs", "batch_size": "auto",
                     "temp_folder": None, "max_nbytes": None, "mmap_mode": "r"}


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, else all)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def prepare(args: list[str]) -> None:
    """Before Hydra loads: share the cores among the workers ``args`` ask for, and warm a joblib pool."""
    workers = parallel_workers(args)
    share_cores(workers)  # first: the workers inherit the environment
    start_early(args, workers)


def share_cores(workers: int | None) -> None:
    """Give each of a parallel sweep's workers its share of the cores for Polars' thread pool.

    Without it every worker starts as many threads as the machine has cores, and on a busy
    machine they spin against each other (joblib already caps the BLAS libraries' threads in
    its workers). Workers inherit the setting; a user's own ``POLARS_MAX_THREADS`` wins.
    """
    import os

    if workers:
        os.environ.setdefault("POLARS_MAX_THREADS", str(max(1, usable_cores() // workers)))


def start_early(args: list[str], workers: int | None) -> threading.Thread | None:
    """Warm the joblib launcher's ``workers`` in the background if ``args`` run such a sweep; the thread."""
    if not warmable(args, workers):
        return None
    import multiprocessing

    import joblib  # noqa: F401 - here, not in the thread: two threads importing at once can deadlock

    # joblib gives loky a new pool when the start method differs from the last call's. Importing
    # Mesa makes it "spawn" (mesa/batchrunner.py) should anything here import it before the
    # launch; the launcher then asks with spawn: so do we, and the two agree either way.
    multiprocessing.set_start_method("spawn", force=True)
    thread = threading.Thread(target=warm_pool, args=(workers,), name="ccframe-prewarm", daemon=True)
    thread.start()
    return thread


def warmable(args: list[str], workers: int | None) -> bool:
    """Whether ``args`` run a joblib sweep on ``workers`` processes whose pool loky will reuse.

    Not with a launcher option other than ``n_jobs``.
    """
    launcher_options = {key for key in typed_values(args) if key.startswith("hydra.launcher.")}
    return joblib_pool_sweep(args, workers) and not launcher_options - {"hydra.launcher.n_jobs"}


def joblib_pool_sweep(args: list[str], workers: int | None) -> bool:
    """Whether ``args`` run a sweep on a pool of joblib ``workers``.

    Not when joblib runs the jobs in this process (fewer than 2 workers), nor when Hydra only prints.
    """
    if workers is None or workers < 2 or NO_PREFLIGHT.intersection(args):
        return False
    return typed_values(args).get("hydra/launcher") == "joblib"


def release_workers(args: list[str]) -> None:
    """End a finished joblib sweep's idle workers now, not at exit, where loky waits for each to unload.

    Every job has returned (its results and MLflow run written), so nothing is lost;
    the sweep ends about 0.5 s sooner.
    """
    if not joblib_pool_sweep(args, parallel_workers(args)):
        return
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor(reuse=True).shutdown(wait=False, kill_workers=True)  # the launcher's pool


def warm_pool(workers: int) -> set[int]:
    """Have each of the launcher's future ``workers`` import what a job needs; their process ids."""
    import joblib

    tasks = (joblib.delayed(load_job_modules)() for _ in range(workers))
    return set(joblib.Parallel(n_jobs=workers, **LAUNCHER_DEFAULTS)(tasks))


def load_job_modules() -> int:
    """Import the modules a simulation job imports (run in a worker process); the process id."""
    import os

    import ccframe.cli  # noqa: F401 - Hydra
    import ccframe.model  # noqa: F401 - Mesa, the mechanisms
    import ccframe.tasks.simulate  # noqa: F401 - Polars, the results
    from ccframe.figures import pyplot

    pyplot()
    return os.getpid()
