"""The plugin module ccframe loads through the ``ccframe`` entry point."""

from ccframe import hookimpl
from ccframe_demand_personalisation.mechanism import NichePersonalisation


@hookimpl
def ccframe_register_mechanisms(register):
    """Offer the ``personalisation`` slot, filled by ``niches``."""
    register(NichePersonalisation)


@hookimpl
def ccframe_config_searchpath():
    """Our config group ``mechanism/demand_personalisation.yaml`` (``+mechanism=demand_personalisation``)."""
    return ["pkg://ccframe_demand_personalisation.conf"]
