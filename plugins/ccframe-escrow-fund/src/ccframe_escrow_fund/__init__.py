"""Escrow fund circulation for ccframe: a *replacement* for the built-in ``fund=cif``.

The seed describes how CBEC money really flows: "the third-party payment platform
obtains the buyer's payment; after the completion of the transaction the seller is
paid; the platform charges an operating fee". Here a CBEC supplier's eq. (6) revenue
reaches it ``release_days`` after delivery, less the platform's ``platform_fee``;
everything else is the built-in CIF mechanism. Select it with ``fund=escrow``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccframe import hookimpl
from ccframe.mechanisms.fund import CIFFund, CIFParams
from ccframe.params import bounded, fraction


@dataclass(frozen=True)
class EscrowParams(CIFParams):
    """The CIF parameters plus the platform's fee and release delay."""

    platform_fee: float = fraction("share of a CBEC sale the payment platform keeps")
    release_days: float = bounded(0, 3650, doc="days from delivery until the platform releases the payment")


class EscrowFund(CIFFund):
    """CIF fund circulation with payments held and released by an escrow platform."""

    name = "escrow"
    Params = EscrowParams

    def payment_factor(self) -> float:
        """Present value of a CBEC sale's revenue after the platform's fee and release delay."""
        p = self.params
        return (1.0 - p.platform_fee) * (1.0 + p.discount_rate) ** (-p.release_days / 365.0)


@hookimpl
def ccframe_register_mechanisms(register):
    """Offer ``fund=escrow`` beside the built-in ``fund=cif``."""
    register(EscrowFund)


@hookimpl
def ccframe_config_searchpath():
    """Our option ``fund/escrow.yaml``."""
    return ["pkg://ccframe_escrow_fund.conf"]
