"""What a ``python -m ccframe`` job does, chosen by ``task=<name>`` (the config group ``conf/task/``).

A task is a function ``run(config, job)`` that validates the parts of the composed config it
reads (raising :class:`ccframe.params.ConfigError`), does its work, keeps its outputs in
``job.folder`` and prints its report. The CLI turns its errors into one-line messages.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ccframe.params import ConfigError

#: Task name -> ``module:function``; imported only when chosen, so each task pays for its own imports.
TASKS = {
    "simulate": "ccframe.tasks.simulate:run",
    "sem": "ccframe.tasks.sem:run",
    "virtual_survey": "ccframe.tasks.virtual_survey:run",
}

Task = Callable[[Any, Any], None]


def target(name: str) -> str:
    """The ``module:function`` of the task called ``name``, or a ConfigError listing the available ones.

    Imports nothing, so ``ccframe check`` can validate a task name without paying for the task.
    """
    found = TASKS.get(name)
    if found is None:
        raise ConfigError(f"task: no such task {name!r}; available: {', '.join(sorted(TASKS))}")
    return found


def load(name: str) -> Task:
    """The task called ``name``, or a ConfigError listing the available ones."""
    module, function = target(name).split(":")
    return getattr(importlib.import_module(module), function)
