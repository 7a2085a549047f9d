"""Demand personalisation for ccframe: customised niches that only broad-vision servers can serve."""

from ccframe_demand_personalisation.mechanism import NichePersonalisation, PersonalisationParams

__all__ = ["NichePersonalisation", "PersonalisationParams"]
