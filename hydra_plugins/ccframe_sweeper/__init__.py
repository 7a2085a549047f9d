"""Hydra's basic sweeper, less its second composition of the jobs ccframe has already checked.

Before a sweep starts, ``python -m ccframe -m ...`` checks every job
(:func:`ccframe.preflight.check`), composing each set of config groups once. Hydra's
basic sweeper then composes every job's full config again in the parent
(``validate_batch_is_legal``), about 0.2 s a job that no worker can share. This sweeper
skips the jobs ccframe has passed and lets Hydra compose the rest. A job is still
composed where it runs, so nothing goes unchecked. Selected by ccframe's config
(``hydra/sweeper: ccframe``); ``hydra/sweeper=basic`` restores Hydra's.

It lives in ``hydra_plugins`` because Hydra instantiates sweepers only from there;
:func:`ccframe.searchpath.register_with_hydra` registers it, as Hydra's scan misses
packages installed in editable mode.
"""

from __future__ import annotations

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class CheckedSweeper(BasicSweeper):
    """:class:`~hydra._internal.core_plugins.basic_sweeper.BasicSweeper` trusting ccframe's check of a job."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        from ccframe.preflight import passed

        super().validate_batch_is_legal([job for job in batch if not passed(job)])
