"""Sweeps: bit-identical results whatever the launcher, and parallel workers that share the cores."""

import os
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest

SWEEP = ["-m", "ctrans=3000,4000", "replicates=3", "years=3", "tracking.enabled=false",
         "hydra.sweep.dir=sweep"]


def sweep(cwd, *launcher):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    run = subprocess.run([sys.executable, "-m", "ccframe", *SWEEP, *launcher], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return [pl.read_parquet(cwd / "sweep" / str(job) / "summary.parquet") for job in (0, 1)]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return sweep(tmp_path_factory.mktemp("serial"))


def test_joblib_gives_bit_identical_summaries(serial, tmp_path):
    parallel = sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    for one, other in zip(serial, parallel, strict=True):
        assert one.equals(other)


def test_ray_on_a_local_instance_gives_bit_identical_summaries(serial, tmp_path):
    distributed = sweep(tmp_path, "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
                        "+hydra.launcher.ray.init.include_dashboard=false")
    for one, other in zip(serial, distributed, strict=True):
        assert one.equals(other)


def test_the_jobs_of_a_sweep_differ(serial):
    assert not serial[0].equals(serial[1])


@pytest.mark.parametrize(("args", "workers"), [
    (["-m", "seed=1,2"], None),  # Hydra's basic launcher runs one job at a time
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=1,2"], 2),
    (["-m", "hydra/launcher=joblib"], os.cpu_count()),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=-2"], max(1, os.cpu_count() - 1)),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=all"], None),  # Hydra refuses it
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], None),  # not a multirun
])
def test_a_parallel_sweep_knows_how_many_workers_share_the_cores(args, workers):
    from ccframe.argv import parallel_workers

    assert parallel_workers(args) == workers


def test_each_parallel_worker_gets_its_share_of_cores_for_polars_unless_the_user_chose(monkeypatch):
    from ccframe.parallel import THREAD_CAPS, share_cores

    for variable in ("POLARS_MAX_THREADS", *THREAD_CAPS):
        monkeypatch.delenv(variable, raising=False)
    share_cores(os.cpu_count())
    assert os.environ["POLARS_MAX_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    share_cores(2)
    assert os.environ["POLARS_MAX_THREADS"] == "3"


def test_forked_workers_get_the_thread_caps_joblib_gives_the_workers_it_spawns():
    from joblib._parallel_backends import ParallelBackendBase

    from ccframe.parallel import THREAD_CAPS

    assert THREAD_CAPS == tuple(ParallelBackendBase.MAX_NUM_THREADS_VARS)


@pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows: workers are spawned")
@pytest.mark.parametrize("options", [{}, {"batch_size": 1}])  # warmed; not warmed (loky starts a fresh pool)
def test_a_joblib_sweeps_workers_are_forked_from_one_server_with_a_jobs_modules_imported(options, tmp_path):
    """The imports a job needs are done once, not once per worker, whatever the launcher's options."""
    script = tmp_path / "workers.py"
    script.write_text(textwrap.dedent(f"""
        import multiprocessing, os, sys
        import joblib
        from ccframe.parallel import JOB_MODULES, LAUNCHER_DEFAULTS, start_early

        def missing_modules():
            return [name for name in JOB_MODULES if name not in sys.modules]

        if __name__ == "__main__":
            options = {options!r}
            args = ["-m", "seed=1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                    *(f"hydra.launcher.{{key}}={{value}}" for key, value in options.items())]
            warm_up = start_early(args, 2)
            assert (warm_up is None) == bool(options)
            if warm_up:
                warm_up.join()
            with multiprocessing.get_context("forkserver").Pool(1) as fresh:  # a fork with no warm-up
                print(fresh.apply(missing_modules))
            launcher = {{**LAUNCHER_DEFAULTS, **options}}
            workers = joblib.Parallel(n_jobs=2, **launcher)(joblib.delayed(os.getppid)() for _ in range(4))
            print(len(set(workers)), os.getpid() in workers)
    """))
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2:] == ["[]", "1 False"]  # one parent, the server, not this process


@pytest.mark.parametrize(("args", "warmed"), [
    (["-m", "hydra/launcher=joblib", "seed=1,2"], os.cpu_count() >= 2),  # the launcher's default: all cores
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], True),
    (["-m", "seed=1,2"], False),  # serial
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], False),  # not a multirun
    (["-m", "hydra/launcher=ray"], False),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.max_nbytes=1M"], False),  # loky would not reuse the pool
    (["-m", "hydra/launcher=joblib", "--cfg", "job"], False),  # Hydra only prints
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=1"], False),  # the jobs run in the parent
])
def test_a_pool_is_warmed_only_for_a_joblib_sweep_the_launcher_will_reuse_it_for(args, warmed):
    from ccframe.argv import parallel_workers
    from ccframe.parallel import warmable

    assert warmable(args, parallel_workers(args)) == warmed


def test_no_pool_is_warmed_when_the_launcher_runs_the_jobs_in_its_own_process():
    from ccframe.parallel import start_early

    assert start_early(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=1"], 1) is None


def test_the_warmed_pool_is_the_one_hydras_joblib_launcher_gets():
    """The warm-up's arguments must match what the launcher passes, or its workers are wasted."""
    from dataclasses import asdict

    import joblib
    import mesa  # noqa: F401 - the launcher runs after Mesa's import has set the start method
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
    from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf

    from ccframe.parallel import warm_pool

    warmed = warm_pool(2)
    options = {key: value for key, value in asdict(JobLibLauncherConf(n_jobs=2)).items() if key != "_target_"}
    options["backend"] = "loky"  # as the launcher sets it
    process_joblib_cfg(options)
    used = set(joblib.Parallel(**options)(joblib.delayed(os.getpid)() for _ in range(8)))
    assert used <= warmed


def test_a_parallel_sweep_refused_by_the_precheck_exits_with_one_line_while_its_pool_warms(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    run = subprocess.run([sys.executable, "-m", "ccframe", "-m", "ctrans=3000,-5", "tracking.enabled=false",
                          "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["ccframe: error: job 1 (ctrans=-5): ctrans: must be in (0, inf), "
                                               "got -5.0"]


@pytest.mark.parametrize(("sweeper", "compositions_per_job"), [([], 1), (["hydra/sweeper=basic"], 2)])
def test_the_sweeper_does_not_compose_again_the_jobs_ccframe_has_checked(sweeper, compositions_per_job,
                                                                        cli_entry, tmp_path, monkeypatch):
    """Hydra's basic sweeper composes every job in the parent before launching; ccframe's check already has."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    composed = []
    compose = ConfigLoaderImpl.load_sweep_config
    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config",
                        lambda self, master_config, sweep_overrides: composed.append(sweep_overrides)
                        or compose(self, master_config, sweep_overrides))
    monkeypatch.chdir(tmp_path)
    status, _, err = cli_entry("-m", "seed=1,2,3", "years=1", "replicates=1", "tracking.enabled=false",
                               "hydra.sweep.dir=sweep", *sweeper)  # a hydra.* override: not in the sweeper's jobs
    assert status == 0, err
    assert sorted(map(tuple, composed)) == sorted(
        [(f"seed={seed}", "years=1", "replicates=1", "tracking.enabled=False")  # as Hydra writes them
         for seed in (1, 2, 3)] * compositions_per_job)


def test_only_the_jobs_the_check_passed_are_trusted_named_as_hydras_sweeper_names_them():
    """Hydra's sweeper has each job without its hydra.* overrides; any other job Hydra composes itself."""
    from ccframe.params import ConfigError
    from ccframe.preflight import check, passed

    check(["ctrans=3000,3500", "hydra/launcher=joblib"], multirun=True)
    with pytest.raises(ConfigError):
        check(["ctrans=-5", "hydra/launcher=joblib"], multirun=True)
    assert passed(["ctrans=3000"]) and passed(["ctrans=3500"])
    assert not passed(["ctrans=3600"]) and not passed(["ctrans=-5"])


def test_the_warm_up_imports_every_library_a_job_imports(tmp_path):
    """What a job imports after the warm-up, it imports on the sweep's clock."""
    script = textwrap.dedent("""
        import sys
        from ccframe.parallel import load_job_modules
        from ccframe.cli import main
        load_job_modules()
        warmed = {name.split(".")[0] for name in sys.modules}
        sys.argv = ["ccframe", "-m", "years=1", "replicates=1", "tracking.enabled=false", "hydra.sweep.dir=sweep"]
        try:
            main()
        except SystemExit as exc:
            assert not exc.code, exc.code
        print(sorted({name.split(".")[0] for name in sys.modules} - warmed - {"hydra_plugins"}))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_a_sweeps_parent_checks_its_jobs_without_the_libraries_only_jobs_need():
    """The parent's start is the one part of a parallel sweep that no worker shares: keep it light."""
    script = textwrap.dedent("""
        import sys
        from ccframe.cli import check_command
        assert check_command(["-m", "seed=range(0,4)", "hydra/launcher=joblib"]) == 0
        print(sorted({name.split(".")[0] for name in sys.modules} & {"mesa", "polars", "scipy", "matplotlib"}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_a_finished_joblib_sweep_ends_its_idle_workers_at_once():
    from ccframe.parallel import release_workers, warm_pool

    workers = warm_pool(2)
    release_workers(["-m", "seed=1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(running, workers)):
        time.sleep(0.05)
    assert not any(map(running, workers))


def test_the_end_of_another_sweep_leaves_joblibs_workers_alone():
    from ccframe.parallel import release_workers, warm_pool

    workers = warm_pool(2)
    release_workers(["-m", "seed=1,2"])
    assert all(map(running, workers))
    assert warm_pool(2) <= workers  # the same pool, still in use


def running(pid):
    """Whether process ``pid`` is alive (not ended, nor ended and waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
