"""``information=static``: the information-driven mechanism switched off, for the knock-out sweep.

Same parameters and metrics as the built-in ``information=vision``, but its yearly context
update does nothing: vision does not grow or spill over, supervision detects nobody, and
beta and gamma do not act on R_fixed and T_co (eqs. 9, 10). The government's alpha, beta
and gamma are still published, so respondents still see them; they just change nothing.
Registered at run time by :func:`register` (an experiment-local plugin, not a built-in).
"""

from __future__ import annotations

import sys

from ccframe import hookimpl
from ccframe.mechanisms.information import VisionInformation


class StaticInformation(VisionInformation):
    """The information-driven mechanism with its dynamics off."""

    name = "static"

    @hookimpl
    def ccframe_update_context(self, model, year: int) -> None:
        """Nothing moves: no vision growth, no detection, no eqs. 9-10."""


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Offer ``information=static``."""
    register(StaticInformation)


def register() -> None:
    """Add this module to ccframe's plugin manager (idempotent; call in every worker process)."""
    from ccframe.plugins import get_plugin_manager

    pm = get_plugin_manager()
    if pm.get_plugin(__name__) is None:
        pm.register(sys.modules[__name__], name=__name__)
