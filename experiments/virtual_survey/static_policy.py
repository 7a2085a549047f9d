"""``information=static_policy``: the information-driven mechanism's policy side switched off.

Same parameters and metrics as the built-in ``information=vision``, and servers' vision
grows as before, but the government acts on nothing: supervision standardises no escaping
server (eq. 8) and beta and gamma do not lower R_fixed and T_co (eqs. 9, 10). Alpha, beta
and gamma are still drawn per cluster and published, so respondents still see them; they
just change nothing. (Switching vision growth off as well kills every cluster: see
``vision_off`` in knockouts.yaml.) Registered at run time by :func:`register` (an
experiment-local plugin, not a built-in).
"""

from __future__ import annotations

import sys

from ccframe import hookimpl
from ccframe.mechanisms.information import VisionInformation


class StaticPolicyInformation(VisionInformation):
    """The information-driven mechanism with the government's side off."""

    name = "static_policy"

    @hookimpl
    def ccframe_update_context(self, model, year: int) -> None:
        """Vision grows; no supervision, no eqs. 9-10."""
        self.grow_vision(model)


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Offer ``information=static_policy``."""
    register(StaticPolicyInformation)


def register() -> None:
    """Add this module to ccframe's plugin manager (idempotent; call in every worker process)."""
    from ccframe.plugins import get_plugin_manager

    pm = get_plugin_manager()
    if pm.get_plugin(__name__) is None:
        pm.register(sys.modules[__name__], name=__name__)
