"""Structural equation models as config: specs, estimation, indices, pre-analysis, simulation.

The submodules keep their heavy imports (semopy, factor_analyzer, scipy.stats) to
themselves, so importing :mod:`ccframe` or :mod:`ccframe.sem` costs nothing; the
names below are loaded on first use.

- :mod:`ccframe.sem.spec` -- load, validate and compile a YAML spec (``conf/sem/``)
- :mod:`ccframe.sem.fit` -- ML estimation via semopy, lavaan-defined fit indices,
  lavaan ``std.all`` standardised estimates
- :mod:`ccframe.sem.population` -- the paper's population model; simulated Likert data
- :mod:`ccframe.sem.indices` -- the fit indices as lavaan defines them (pure functions)
- :mod:`ccframe.sem.preanalysis` -- KMO, Bartlett, PCA + varimax, alpha, CR, AVE
- :mod:`ccframe.sem.checks` -- the paper's five violation-of-estimation checks; fit criteria
- :mod:`ccframe.sem.modindices` -- modification indices (lavaan's score test)
- :mod:`ccframe.sem.revise` -- the paper's revision loop (free the largest admissible MI, refit)
- :mod:`ccframe.sem.bootstrap` -- bootstrap of the standardised estimates on all cores
- :mod:`ccframe.sem.data` -- read a survey CSV with one-line errors
- :mod:`ccframe.sem.report` -- the AMOS-style report beside the paper's published values
- :mod:`ccframe.sem.diagram` -- the fitted model's path diagram (PNG), AMOS-style
"""

from __future__ import annotations

import importlib

_LAZY = {
    "SemSpec": "ccframe.sem.spec",
    "SpecError": "ccframe.sem.spec",
    "load_spec": "ccframe.sem.spec",
    "spec_from_dict": "ccframe.sem.spec",
    "fit": "ccframe.sem.fit",
    "fit_covariance": "ccframe.sem.fit",
    "SemResult": "ccframe.sem.fit",
    "DataError": "ccframe.sem.fit",
    "preanalysis": "ccframe.sem.preanalysis",
    "load_population": "ccframe.sem.population",
    "simulate": "ccframe.sem.population",
    "violations": "ccframe.sem.checks",
    "judge_fit": "ccframe.sem.checks",
    "modification_indices": "ccframe.sem.modindices",
    "revise": "ccframe.sem.revise",
    "bootstrap": "ccframe.sem.bootstrap",
    "read_survey": "ccframe.sem.data",
    "build_report": "ccframe.sem.report",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ccframe.sem' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
