"""A parallel sweep's worker processes: their share of the cores, and a joblib pool started early.

Hydra's joblib launcher starts its workers only when it launches the jobs, and loky spawns
each as a fresh interpreter that imports ccframe, Hydra, Mesa, Polars and matplotlib (about
2 s of a core each) before its first job. ``python -m ccframe -m ... hydra/launcher=joblib``
instead starts, before it even imports Hydra, a fork server that does those imports once on
a core the parent leaves free; loky forks the workers from it, loaded. When the command line
sets no launcher option but ``n_jobs``, it also warms the pool from a background thread with
the arguments the launcher will use, so loky's reusable executor hands the launcher the same
workers (with other options loky would start a fresh set, and the warm-up would be wasted).
A sweep that the pre-check refuses exits once the warm-up is done (within about 2 s). Once
the sweep is done, its idle workers are ended at once (:func:`release_workers`).
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


#: What a simulation job imports: Hydra, Mesa and the mechanisms, Polars and the results, matplotlib.
JOB_MODULES = ("ccframe.cli", "ccframe.model", "ccframe.tasks.simulate", "matplotlib.pyplot")

#: The numeric libraries' thread pools joblib caps in the workers it spawns
#: (``ParallelBackendBase.MAX_NUM_THREADS_VARS``), written out: importing joblib would delay the fork server.
THREAD_CAPS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, else all)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def prepare(args: list[str]) -> threading.Thread | None:
    """Before Hydra loads: share the cores among the workers ``args`` ask for, and warm a joblib pool (the thread)."""
    workers = parallel_workers(args)
    share_cores(workers)  # first: the workers inherit the environment
    return start_early(args, workers)


def share_cores(workers: int | None) -> None:
    """Give each of a parallel sweep's workers its share of the cores for Polars' and the numeric libraries' threads.

    Without it every worker starts as many threads as the machine has cores, and on a busy
    machine they spin against each other. Workers inherit the setting (joblib would put the
    same caps in the environment of the workers it spawns, but not of those forked from
    :func:`start_fork_server`); a user's own setting wins.
    """
    import os

    if workers:
        for variable in ("POLARS_MAX_THREADS", *THREAD_CAPS):
            os.environ.setdefault(variable, str(max(1, usable_cores() // workers)))


def start_early(args: list[str], workers: int | None) -> threading.Thread | None:
    """Start a joblib sweep's fork server, and warm its pool in the background if the launcher will reuse it.

    The thread warming the pool, if any.
    """
    if not joblib_pool_sweep(args, workers):
        return None
    import multiprocessing

    forking = start_fork_server()  # first: it imports what a job needs while we go on
    import joblib  # noqa: F401 - here, not in the thread: two threads importing at once can deadlock
    from joblib.externals.loky.backend.context import set_start_method

    if forking:
        set_start_method("forkserver", force=True)  # loky's own default, which it uses whatever joblib passes
    if not warmable(args, workers):
        return None
    # joblib gives loky a new pool when the start method differs from the last call's. Importing
    # Mesa makes it "spawn" (mesa/batchrunner.py) should anything here import it before the
    # launch; the launcher then asks with spawn: so do we, and the two agree either way.
    multiprocessing.set_start_method("spawn", force=True)
    thread = threading.Thread(target=warm_pool, args=(workers,), name="ccframe-prewarm", daemon=True)
    thread.start()
    return thread


def start_fork_server() -> bool:
    """Start a process that imports what a job needs, for loky to fork the workers from; whether the OS can.

    Spawned workers each import it themselves, on the cores the parent needs to compose and
    check the sweep; a fork server imports it once, beside the parent, and its forks start
    loaded, their thread caps inherited from our environment (:func:`share_cores`). The server
    only imports: Polars' thread pool, which a fork would leave broken, starts in each
    worker on first use.
    """
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    forkserver.set_forkserver_preload(list(JOB_MODULES))
    forkserver.ensure_running()
    return True


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
    """Import the modules a simulation job imports (run in a worker process); the process id.

    Their objects live as long as the worker, so the collector's full passes are spared them
    (``gc.freeze``): those passes walk every live object, a few hundredths of a second a job.
    """
    import gc
    import importlib
    import os

    from ccframe.figures import pyplot

    for name in JOB_MODULES:
        importlib.import_module(name)
    pyplot()  # on the Agg backend
    gc.freeze()
    return os.getpid()
