"""Global sensitivity study (SALib Morris or Sobol) of the model's outcomes to its context and cost parameters.

Reads ``study.yaml`` (parameters and ranges, outputs, method), samples the parameter space with
SALib, runs the model once per sample in parallel on the local cores (each run is
``ccframe.simulate`` with the sample as overrides, so every value is validated like a CLI
run), analyses the chosen outputs, and writes ``REPORT.md``, ``indices.parquet``,
``samples.parquet`` and ``indices.png`` beside this file; the study is one MLflow run in
the experiment ``sensitivity`` with the indices as metrics and those files as artifacts.

    python experiments/sensitivity/run.py [--study study.yaml] [--jobs N]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from joblib import Parallel, delayed
from omegaconf import OmegaConf

HERE = Path(__file__).resolve().parent
BREAKDOWN = "breakdown"


def load_study(path: Path) -> dict:
    """The study as plain data (YAML read by OmegaConf, nothing evaluated)."""
    study = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    if study["method"] not in ("morris", "sobol"):
        raise SystemExit(f"study: method must be morris or sobol, got {study['method']!r}")
    return study


def salib_problem(study: dict) -> dict:
    """SALib's problem dict from the study's parameters."""
    params = study["parameters"]
    return {"num_vars": len(params), "names": [p["key"] for p in params],
            "bounds": [[p["low"], p["high"]] for p in params]}


def sample(study: dict, problem: dict) -> np.ndarray:
    """The parameter samples of the chosen method."""
    if study["method"] == "morris":
        from SALib.sample import morris

        return morris.sample(problem, study["samples"], num_levels=study["levels"], seed=study["seed"])
    from SALib.sample import sobol

    return sobol.sample(problem, study["samples"], calc_second_order=False, seed=study["seed"])


def run_sample(names: list[str], values: np.ndarray, overrides: list[str], outputs: list[dict]) -> list[float]:
    """One model run at one sample: the study's outputs (replicate means), then its breakdown share.

    Clusters that die out (docs/ODD.md 3.3.6) are an outcome of the parameters, not a failure
    of the study: ``breakdown`` is the share of replicates dead by the last year, and the
    outputs are the survivors' means (NaN where none survived). A run that ends in a
    :class:`ccframe.errors.ModelError` (numerical trouble) has NaN outputs and breakdown 1.
    """
    from ccframe.errors import ModelError
    from ccframe.runner import simulate

    overrides = [*overrides, *(f"{k}={float(v)!r}" for k, v in zip(names, values, strict=True))]
    try:
        result = simulate(overrides)
        return [*(result.means(o["metric"])[o["year"]] for o in outputs), result.means("collapsed")[-1]]
    except ModelError:
        return [*(math.nan for _ in outputs), 1.0]
    except Exception as exc:  # re-raised as a plain error: Hydra's exceptions do not cross processes
        raise RuntimeError(f"model run {' '.join(overrides)}: {type(exc).__name__}: {exc}") from None


def labels(study: dict) -> list[str]:
    """The analysed outputs' names: ``metric@year`` for each configured output, then ``breakdown``."""
    return [*(f"{o['metric']}@{o['year']}" for o in study["outputs"]), BREAKDOWN]


def analyse(study: dict, problem: dict, X: np.ndarray, Y: np.ndarray) -> pl.DataFrame:
    """One row per (output, parameter): the method's indices, their confidence half-widths, trajectories used.

    Morris uses the trajectories in which every run gave the output (none broke down);
    Sobol's estimators need every run, so a breakdown there is an error naming how many.
    """
    rows = []
    for column, label in enumerate(labels(study)):
        y = Y[:, column]
        if study["method"] == "morris":
            from SALib.analyze import morris

            size = problem["num_vars"] + 1  # runs per trajectory
            whole = np.isfinite(y.reshape(-1, size)).all(axis=1).repeat(size)
            res = morris.analyze(problem, X[whole], y[whole], num_levels=study["levels"], seed=study["seed"])
            res["trajectories"] = np.full(problem["num_vars"], whole.sum() // size)
            indices = {"mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"],
                       "trajectories": res["trajectories"]}
        else:
            from SALib.analyze import sobol

            if not np.isfinite(y).all():
                raise SystemExit(f"sensitivity: {int((~np.isfinite(y)).sum())} runs broke down; Sobol indices need "
                                 "every run: narrow the ranges or use method: morris")
            res = sobol.analyze(problem, y, calc_second_order=False, seed=study["seed"])
            indices = {"S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]}
        for index, name in enumerate(problem["names"]):
            rows.append({"output": label, "parameter": name,
                         **{key: float(values[index]) for key, values in indices.items()}})
    return pl.DataFrame(rows)


def main_index(method: str) -> tuple[str, str]:
    """The index that ranks parameters, and its confidence column."""
    return ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")


def plot(indices: pl.DataFrame, method: str, path: Path) -> None:
    """One horizontal bar panel per output: each parameter's index with its confidence interval."""
    from ccframe.figures import pyplot

    plt = pyplot()
    index, conf = main_index(method)
    outputs = indices["output"].unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs), 3.6), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        rows = indices.filter(pl.col("output") == output).sort(index)
        ax.barh(rows["parameter"].to_list(), rows[index].to_numpy(), xerr=rows[conf].to_numpy(), color="tab:blue")
        ax.set_title(output, fontsize=10)
        ax.set_xlabel({"mu_star": "Morris μ* (mean |elementary effect|)", "ST": "Sobol total index"}[index],
                      fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(study: dict, indices: pl.DataFrame, runs: int, seconds: float, breakdowns: np.ndarray) -> str:
    """REPORT.md: the ranking per output and how it was made."""
    index, conf = main_index(study["method"])
    broken = int((breakdowns > 0).sum())
    lines = [f"# Global sensitivity study ({study['method']})", "",
             f"{runs} model runs ({' '.join(study['overrides'])} each) in {seconds:.0f} s; "
             f"study `experiments/sensitivity/study.yaml`, command `python experiments/sensitivity/run.py`.",
             f"In {broken} of {runs} runs clusters died out (docs/ODD.md 3.3.6); `{BREAKDOWN}` (the share of "
             "replicates dead by the last year; 1 for a numerical model error) is analysed as an output of its "
             "own, the other outputs are the survivors' means, and trajectories where an output is undefined "
             "(every replicate dead) are left out (column `trajectories`).",
             "Parameters are ranked by " + ("μ*, the mean absolute elementary effect over the range (σ large "
                                            "against μ* flags interactions or non-linearity)"
                                            if index == "mu_star" else "the total-order Sobol index") + ".",
             "", "![indices](indices.png)", ""]
    for output in indices["output"].unique(maintain_order=True).to_list():
        rows = indices.filter(pl.col("output") == output).sort(index, descending=True)
        lines += [f"## {output}", "", "| parameter | " + " | ".join(c for c in rows.columns[2:]) + " |",
                  "|---" * (len(rows.columns) - 1) + "|"]
        for row in rows.iter_rows(named=True):
            lines.append(f"| {row['parameter']} | " + " | ".join(f"{row[c]:.4g}" for c in rows.columns[2:]) + " |")
        lines.append("")
    return "\n".join(lines)


def log_to_mlflow(study: dict, indices: pl.DataFrame, files: list[Path]) -> str:
    """The study as one MLflow run: its settings as params, the indices as metrics, its files."""
    from ccframe.tracking import Tracker

    tracker = Tracker("")
    index, _ = main_index(study["method"])
    run_id = tracker.start("sensitivity", f"{study['method']} x{study['samples']}", {"ccframe.task": "sensitivity"})
    params = {"method": study["method"], "samples": str(study["samples"]), "overrides": " ".join(study["overrides"]),
              **{f"range.{p['key']}": f"[{p['low']}, {p['high']}]" for p in study["parameters"]}}
    metrics = [(f"{index}.{row['output'].replace('@', '.y')}.{row['parameter']}", row[index], 0)
               for row in indices.iter_rows(named=True)]
    tracker.log_result(run_id, params, metrics)
    for path in files:
        tracker.client.log_artifact(run_id, str(path))
    tracker.finish(run_id)
    return run_id


def main() -> None:
    """Sample, run in parallel with progress, analyse, report, log."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", type=Path, default=HERE / "study.yaml")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel workers (default: all cores)")
    parser.add_argument("--out", type=Path, default=HERE, help="where the report and files go")
    options = parser.parse_args()
    study = load_study(options.study)
    problem = salib_problem(study)
    X = sample(study, problem)
    print(f"sensitivity: {study['method']}, {len(X)} model runs of {problem['num_vars']} parameters",
          file=sys.stderr)
    start = time.perf_counter()
    tasks = (delayed(run_sample)(problem["names"], x, study["overrides"], study["outputs"]) for x in X)
    Y = np.array(Parallel(n_jobs=options.jobs, verbose=5)(tasks))  # joblib prints progress on stderr
    seconds = time.perf_counter() - start
    indices = analyse(study, problem, X, Y)
    options.out.mkdir(parents=True, exist_ok=True)
    files = [options.out / name for name in ("REPORT.md", "indices.parquet", "samples.parquet", "indices.png")]
    files[0].write_text(report(study, indices, len(X), seconds, Y[:, -1]))
    indices.write_parquet(files[1])
    pl.DataFrame(np.column_stack([X, Y]), schema=[*problem["names"], *labels(study)],
                 orient="row").write_parquet(files[2])
    plot(indices, study["method"], files[3])
    run_id = log_to_mlflow(study, indices, files)
    print(f"sensitivity: wrote {files[0]}; MLflow run {run_id} in experiment 'sensitivity'", file=sys.stderr)


if __name__ == "__main__":
    main()
