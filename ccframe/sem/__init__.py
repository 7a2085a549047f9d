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
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ccframe.sem' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
