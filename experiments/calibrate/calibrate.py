"""Calibrate the model's free parameters to the seed's facts F1-F8 with Optuna, logged to MLflow.

One command (from the repository root)::

    .venv/bin/python experiments/calibrate/calibrate.py --trials 150

Each trial samples the parameters of ``space.yaml`` (TPE), runs the standard model
and the cheap part of the Fig. 5 sweeps (ctrans 3000 and 4000; iexp 0.1, 0.2, 0.3)
with few replicates and common seeds, and scores the sum of the facts' losses
(:mod:`ccframe.facts`); ``--facts`` scores only some facts, and a trial runs a sweep
only when F3 or F4 is among them. ``--blocks 5`` scores the mean loss over root seeds
seed..seed+4 (the report's robustness blocks), so a trial cannot win on one seed's noise.
Every trial is a child run of the study's run in the MLflow experiment ``calibration``.
The best trial (or the one ``--pick`` names) is then checked at full replicates on the whole
design; with ``--write`` its values go into conf/ with their provenance and the table of
values into docs/ODD.md.
The study is kept in an Optuna SQLite file, so an interrupted study resumes where it
stopped (same ``--study``; ``--total N`` rather than ``--trials`` ends it where the first
command would have). ``--workers`` processes run a trial's runs at once; every run is seeded
by its root seed alone, so the trials' scores do not depend on how many.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import optuna
from omegaconf import OmegaConf

from ccframe import facts
from ccframe.errors import ModelError
from ccframe.parallel import usable_cores
from ccframe.reproduction import design_pool, run_design, run_designs
from ccframe.runner import compose
from ccframe.tracking import Tracker

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import conf_writer  # noqa: E402

TRIAL_CTRANS = (3000.0, 4000.0)
TRIAL_IEXP = (0.1, 0.2, 0.3)
COLLAPSE_LOSS = 1e5  # a trial whose every cluster died out (times the share that did) or whose model broke


def load_space(path: Path) -> dict[str, dict]:
    """The searched parameters: key -> {low, high, log}."""
    space = OmegaConf.to_container(OmegaConf.load(path))["parameters"]
    for key, bounds in space.items():
        if not bounds["low"] < bounds["high"]:
            raise SystemExit(f"{path.name}: {key}: low must be < high, got {bounds}")
    return space


def overrides(values: dict[str, float]) -> list[str]:
    """Hydra overrides for sampled values."""
    return [f"{key}={value!r}" for key, value in values.items()]


def parse_facts(text: str) -> tuple[str, ...]:
    """The facts named in ``--facts`` ("F1,F2,F5"), in F1-F8 order; unknown names are an error."""
    names = {name.strip().upper() for name in text.split(",") if name.strip()}
    if not names or names - set(facts.FACT_IDS):
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(facts.FACT_IDS)}, "
                                          f"got {text!r}")
    return tuple(f for f in facts.FACT_IDS if f in names)


def objective(results: list[facts.FactResult], scored: tuple[str, ...]) -> float:
    """The study's objective: the sum of the losses of the ``scored`` facts."""
    return facts.total_loss([r for r in results if r.fact in scored])


def fact_metrics(results: list[facts.FactResult], scored: tuple[str, ...]) -> dict[str, float]:
    """Per-fact loss and pass flag, the objective (``loss``) and the count of passes."""
    metrics = {}
    for r in results:
        metrics |= {f"loss_{r.fact}": r.loss, f"pass_{r.fact}": float(r.passed)}
    return metrics | {"loss": objective(results, scored), "passed": float(sum(r.passed for r in results))}


def block_metrics(blocks: list[list[facts.FactResult]], scored: tuple[str, ...]) -> dict[str, float]:
    """:func:`fact_metrics` averaged over seed blocks: mean losses, and a pass is the share of blocks."""
    per_block = [fact_metrics(results, scored) for results in blocks]
    return {key: float(np.mean([block[key] for block in per_block])) for key in per_block[0]}


def mlflow_metrics(metrics: dict[str, float]) -> list[tuple[str, float, int]]:
    """Metrics as the tracker logs them: (key, value, step)."""
    return [(key, value, 0) for key, value in metrics.items()]


class Objective:
    """Runs one trial's design and logs it as a child MLflow run."""

    def __init__(self, space: dict[str, dict], replicates: int, seeds: range, scored: tuple[str, ...],
                 tracker: Tracker, parent: str, experiment: str, pool: Executor | None) -> None:
        self.space, self.replicates, self.seeds, self.scored = space, replicates, seeds, scored
        self.tracker, self.parent, self.experiment, self.pool = tracker, parent, experiment, pool

    def __call__(self, trial: optuna.Trial) -> float:
        values = {key: trial.suggest_float(key, b["low"], b["high"], log=bool(b.get("log", False)))
                  for key, b in self.space.items()}
        run_id = self.tracker.start(self.experiment, f"trial {trial.number}", {"optuna.trial": str(trial.number)},
                                    parent_run_id=self.parent)
        try:
            designs = run_designs(overrides(values), seeds=self.seeds, replicates=self.replicates,
                                  ctrans=TRIAL_CTRANS if "F3" in self.scored else (),
                                  iexp=TRIAL_IEXP if "F4" in self.scored else (), executor=self.pool)
        except ModelError as exc:  # the model broke (numerically): the worst outcome, not a gap
            return self._worst(trial, run_id, values, f"{type(exc).__name__}: {exc}")
        collapsed = max(design.collapsed_share for design in designs)
        if collapsed > 0:  # clusters died out: facts on the survivors would flatter the trial
            return self._worst(trial, run_id, values, f"{collapsed:.0%} of the replicates died out", collapsed)
        metrics = block_metrics([design.facts for design in designs], self.scored)
        for key, value in metrics.items():
            if key.startswith("pass_"):
                trial.set_user_attr(key.removeprefix("pass_"), value)  # share of blocks where it holds
        self.tracker.log_result(run_id, {k: f"{v:.6g}" for k, v in values.items()}, mlflow_metrics(metrics))
        self.tracker.finish(run_id)
        return metrics["loss"]

    def _worst(self, trial: optuna.Trial, run_id: str, values: dict[str, float], why: str,
               share: float = 1.0) -> float:
        """Score a trial whose clusters died out (``share`` of the replicates) or whose model broke."""
        loss = COLLAPSE_LOSS * share
        self.tracker.log_result(run_id, {k: f"{v:.6g}" for k, v in values.items()}, [("loss", loss, 0)])
        self.tracker.finish(run_id, ok=False, error=why)
        trial.set_user_attr("collapsed", why)
        return loss


def current_values(space: dict[str, dict]) -> dict[str, float]:
    """The searched keys' values in the default config (conf/), clipped into the space's ranges.

    A key the default config lacks (one that a plugin or a scenario adds) is left out: the
    sampler chooses it.
    """
    defaults = compose()
    values = {key: OmegaConf.select(defaults, key) for key in space}
    return {key: float(np.clip(value, space[key]["low"], space[key]["high"]))
            for key, value in values.items() if value is not None}


def starting_point(space: dict[str, dict], changes: list[str]) -> dict[str, float]:
    """The searched keys' current values (:func:`current_values`) with ``changes`` (KEY=VALUE) applied."""
    point = current_values(space)
    for change in changes:
        key, _, value = change.partition("=")
        if key not in space:
            raise SystemExit(f"--start {change}: {key} is not a searched key of this space")
        try:
            point[key] = float(value)
        except ValueError:
            raise SystemExit(f"--start {change}: {value!r} is not a number") from None
        if not space[key]["low"] <= point[key] <= space[key]["high"]:
            raise SystemExit(f"--start {change}: outside the space's range "
                             f"[{space[key]['low']:g}, {space[key]['high']:g}]")
    return point


def picked(study: optuna.Study, pick: str, scored: tuple[str, ...]) -> optuna.trial.FrozenTrial:
    """The trial ``--pick`` names: the lowest-loss one (""), trial N, or the one holding most facts ("facts")."""
    if not pick:
        return study.best_trial
    done = [t for t in study.trials if t.value is not None]
    if pick == "facts":
        return max(done, key=lambda t: (sum(t.user_attrs.get(f, 0.0) for f in scored), -t.value))
    named = [t for t in done if str(t.number) == pick]
    if not named:
        raise SystemExit(f"--pick {pick}: not 'facts' nor the number of a finished trial of this study")
    return named[0]


def warm_start(study: optuna.Study, earlier: optuna.Study, space: dict[str, dict], best: int = 5) -> None:
    """Enqueue the ``best`` trials of an earlier study; keys it lacked take their defaults in conf/.

    The earlier study ran its trials on the defaults of its day, so a key it did not search is
    best started at its current default (clipped into this study's range), not at random.
    """
    start = current_values(space)
    done = sorted((t for t in earlier.trials if t.value is not None), key=lambda t: t.value)[:best]
    for trial in done:
        study.enqueue_trial(start | {k: v for k, v in trial.params.items() if k in space}, skip_if_exists=True)


def main(argv: list[str] | None = None) -> None:
    """Run (or resume) the study, check its best trial at full replicates, optionally write conf/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    trials = parser.add_mutually_exclusive_group()
    trials.add_argument("--trials", type=int, default=150, help="trials to add to the study")
    trials.add_argument("--total", type=int, metavar="N",
                        help="run trials until the study has N finished ones (resumes an interrupted study "
                             "to the same end; none when it has them)")
    parser.add_argument("--replicates", type=int, default=4, help="replicates per run in a trial")
    parser.add_argument("--check-replicates", type=int, default=10, help="replicates for the best trial's check")
    parser.add_argument("--seed", type=int, default=42, help="root seed of every run (common random numbers)")
    parser.add_argument("--blocks", type=int, default=1,
                        help="score a trial's mean loss over root seeds seed, seed+1, ... (this many)")
    parser.add_argument("--study", default="calibration", help="Optuna study name")
    parser.add_argument("--storage", default=f"sqlite:///{HERE / 'optuna.db'}", help="Optuna storage URL")
    parser.add_argument("--space", type=Path, default=HERE / "space.yaml")
    parser.add_argument("--facts", type=parse_facts, default=facts.FACT_IDS, metavar="F1,F2,...",
                        help="score only these facts (default: all eight; the best trial's check shows all)")
    parser.add_argument("--mlflow-uri", default="", help="MLflow tracking URI (default: ./mlflow.db)")
    parser.add_argument("--start", nargs="+", default=[], metavar="KEY=VALUE",
                        help="a new study's first trial: the defaults with these searched keys changed")
    parser.add_argument("--from-scratch", action="store_true",
                        help="a new study does not try the current defaults first")
    parser.add_argument("--warm-start", default="", metavar="STUDY",
                        help="first try the best trials of this earlier study (same storage)")
    parser.add_argument("--write", action="store_true", help="write the best values into conf/ and docs/ODD.md")
    parser.add_argument("--pick", default="", metavar="N|facts",
                        help="check (and with --write write) trial N, or with 'facts' the trial that holds the "
                             "scored facts in most seed blocks (ties: lowest loss), instead of the lowest-loss one")
    parser.add_argument("--workers", type=int, default=usable_cores(),
                        help="processes running a trial's runs at once (default: the usable cores; "
                             "results do not depend on it)")
    args = parser.parse_args(argv)
    if args.from_scratch and args.start:
        parser.error("--from-scratch and --start both say where a new study starts: give one")

    space = load_space(args.space)
    command = "python experiments/calibrate/calibrate.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    study = optuna.create_study(study_name=args.study, storage=args.storage, direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed, multivariate=True),
                                load_if_exists=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    scored = ",".join(args.facts)
    for option, value in (("facts", scored), ("blocks", args.blocks)):  # one objective per study,
        earlier = study.user_attrs.get(option, value)                 # or its best trial means nothing
        if earlier != value:
            raise SystemExit(f"study {args.study!r} scores {option} {earlier}, not {value}: resume it with "
                             f"--{option} {earlier} or name a new --study")
        study.set_user_attr(option, value)
    tracker = Tracker(args.mlflow_uri)
    experiment = "calibration"
    parent = tracker.start(experiment, f"study {args.study}",
                           {"optuna.study": args.study, "command": command, "facts": scored,
                            "blocks": str(args.blocks)})
    if not study.trials and not args.from_scratch:  # from the current defaults, or where --start says
        study.enqueue_trial(starting_point(space, args.start))
    elif args.start:
        print(f"--start ignored: study {args.study!r} has trials already", file=sys.stderr)
    if args.warm_start:
        warm_start(study, optuna.load_study(study_name=args.warm_start, storage=args.storage), space)
    seeds = range(args.seed, args.seed + args.blocks)
    finished = sum(t.value is not None for t in study.trials)
    to_run = args.trials if args.total is None else max(0, args.total - finished)
    with design_pool(args.workers) as pool:
        if to_run:
            study.optimize(Objective(space, args.replicates, seeds, args.facts, tracker, parent, experiment, pool),
                           n_trials=to_run, show_progress_bar=True)
        best = picked(study, args.pick, args.facts)
        label = "chosen" if args.pick else "best"
        trial_runs = f"{args.replicates} replicates" + (f" x {args.blocks} seed blocks" if args.blocks > 1 else "")
        print(f"{label} trial {best.number}: loss {best.value:.4g} at {trial_runs} "
              f"(lowest: {study.best_value:.4g})", file=sys.stderr)
        written = {key: conf_writer.as_written(value) for key, value in best.params.items()}  # as conf/ will hold
        check = run_design(overrides(written), replicates=args.check_replicates, seed=args.seed, executor=pool,
                           progress=lambda what: print(f"  checked {label} trial: {what}", file=sys.stderr))
    for r in check.facts:
        print(f"{r.fact} {'pass' if r.passed else 'FAIL'}  loss {r.loss:8.3f}  {r.ours[:150]}", file=sys.stderr)
    checked_loss = objective(check.facts, args.facts)
    print(f"full check ({args.check_replicates} replicates, full sweeps): objective {checked_loss:.4g} "
          f"({scored}), all facts {check.loss:.4g}, {sum(r.passed for r in check.facts)}/8 facts pass",
          file=sys.stderr)
    tracker.log_result(parent, {k: f"{v:.6g}" for k, v in best.params.items()}
                       | {"best_trial": str(best.number), "trials": str(len(study.trials))},
                       mlflow_metrics(fact_metrics(check.facts, args.facts)
                                      | {"best_trial_loss": best.value, "loss_all": check.loss}))
    tracker.finish(parent)

    if args.write:
        date = dt.date.today().isoformat()
        provenance = (f"Optuna study '{args.study}' ({len(study.trials)} trials, {label} #{best.number}), {date}; "
                      f"objective {best.value:.4g} at {trial_runs}, {checked_loss:.4g} at "
                      f"{args.check_replicates}; command: {command}")
        changed = conf_writer.write(ROOT / "conf", best.params, provenance, args.study)
        space_path = args.space.resolve()
        space_label = space_path.relative_to(ROOT) if space_path.is_relative_to(ROOT) else space_path
        rows = "\n".join(f"| `{k}` | {v:.6g} | {space[k]['low']:g} – {space[k]['high']:g} |"
                         for k, v in best.params.items())
        passed = ", ".join(f"{r.fact} {'pass' if r.passed else 'fail'}" for r in check.facts)
        conf_writer.record_in_odd(ROOT / "docs" / "ODD.md", f"""
#### Stage `{args.study}`

The defaults of the parameters below were found by the calibration experiment
(`experiments/calibrate/`, Optuna TPE over `{space_label}`; objective:
the sum of the {scored} losses of `ccframe/facts.py` on replicate means). They are marked
`[calibrated: {args.study}]` in `conf/`.

- study: `{args.study}`, {len(study.trials)} trials, {label} trial #{best.number}, {date}
- objective: {best.value:.4g} at {trial_runs} (trial design), {checked_loss:.4g} at
  {args.check_replicates} replicates on the full design; facts: {passed}
- command: `{command}`

| key | calibrated value | searched range |
|---|---|---|
{rows}
""", args.study)
        print("wrote " + ", ".join(str(p.relative_to(ROOT)) for p in changed) + " and docs/ODD.md", file=sys.stderr)


if __name__ == "__main__":
    main()
