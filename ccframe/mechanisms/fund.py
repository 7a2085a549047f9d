"""Fund circulation: CIF pricing and the two payment orders (customer -> server -> supplier).

From the seed: servers quote P_CIF by eq. (4) with the variable cost of eq. (8);
suppliers earn O'·P under traditional export (eq. 5; the TS server pre-pays at the
market price) and O'·P_CIF·R_re under CBEC (eq. 6; the ES server pays after the
customer has paid). Our assumptions (docs/ODD.md, "Fund circulation"): the CBEC
payment arrives ``settlement_days`` later and is discounted for it; servers keep
what the CIF price leaves after their costs; a CBEC server never prices below its
break-even price; a TS server's expected return rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe import equations
from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import mean_or_nan, safe_ratio
from ccframe.modes import ES, MODES, TS
from ccframe.params import ConfigError, bounded, fraction, nonnegative


@dataclass(frozen=True)
class CIFParams:
    """Parameters of CIF fund circulation."""

    revenue_share: float = fraction(
        "what the supplier and the CBEC server's expected return I_exp divide of the CIF price: "
        "R_re = revenue_share - iexp (eq. 6)")
    ts_iexp: float = bounded(0, 1, high_open=True,
                             doc="I_exp of TS servers (eq. 4); the top-level iexp is the ES one")
    settlement_days: float = bounded(0, 3650, doc="days from delivery to the CBEC payment")
    discount_rate: float = nonnegative("yearly rate at which a late payment is discounted")
    server_fixed_cost: float = nonnegative("yearly fixed cost of a server")


class CIFFund(Mechanism):
    """The seed's fund circulation mechanism (eqs. 4-6, 8)."""

    slot = "fund"
    name = "cif"
    Params = CIFParams

    @classmethod
    def check(cls, params: CIFParams, settings, slot: str) -> None:
        total = settings.context.r_fixed0 + settings.context.r_insu + params.ts_iexp
        if total >= 1:
            raise ConfigError(f"{slot}.ts_iexp: context.r_fixed0 + context.r_insu + ts_iexp must "
                              f"be < 1 (eq. 4's denominator), got {total:g}")
        r_re = cls.share(params, settings)  # a subclass that changes supplier_share is checked each year instead
        if r_re < 0:
            raise ConfigError(f"{slot}.revenue_share: must be >= iexp ({settings.iexp:g}): the supplier's "
                              f"share R_re = revenue_share - iexp (eq. 6), got {params.revenue_share:g}")
        paid_out = r_re + settings.context.r_fixed0 + settings.context.r_insu
        if paid_out >= 1:
            raise ConfigError(f"{slot}.revenue_share: revenue_share - iexp + context.r_fixed0 + context.r_insu "
                              f"must be < 1, got {paid_out:g}: a CBEC server paying its supplier R_re of "
                              "the CIF price and the rates would lose the freight at any price")

    @staticmethod
    def share(params: CIFParams, settings) -> float:
        """R_re of eq. (6): what the CBEC server leaves the supplier after its expected return I_exp.

        Our assumption (docs/ODD.md 3.3.2): the seed's "revenue ratio of supplier and server"
        gives the server its expected return out of the pair's share, so a higher I_exp
        lowers the supplier's revenue (seed Fig. 5b) although it raises P_CIF (eq. 4).
        """
        return params.revenue_share - settings.iexp

    def supplier_share(self, model) -> float:
        """R_re for this run (:meth:`share`); subclasses that split CBEC revenue otherwise override it."""
        return self.share(self.params, model.settings)

    def break_even_price(self, model) -> float:
        """The CIF price at which a CBEC server's sale just pays R_re·P_CIF, C_trans and the rates.

        Our assumption (docs/ODD.md 3.3.2): a CBEC server does not sell a unit at a loss, so
        it quotes at least this price; eq. (4) sets its price wherever that is higher. Per
        unit: ``server_fixed_cost`` is not spread over the units, and a ``price_premium``
        (never negative in ccframe's plugins) only adds to the margin.
        """
        ctx = model.context
        left = 1.0 - ctx.r_fixed - ctx.r_insu - self.supplier_share(model)
        model.require(left > 0, f"ES server: 1 - R_fixed - R_insu - R_re = {left:g} is not positive: "
                                "no CIF price covers the freight (fund.break_even_price)")
        return model.settings.ctrans / left

    def payment_factor(self) -> float:
        """Present value of one unit of CBEC revenue paid ``settlement_days`` after delivery.

        Subclasses that change how CBEC money reaches suppliers (an escrow platform, say)
        override this one method.
        """
        p = self.params
        return (1.0 + p.discount_rate) ** (-p.settlement_days / 365.0)

    @hookimpl
    def ccframe_quote_prices(self, model, year: int) -> None:
        """Eq. (8) variable cost and eq. (4) CIF price for every active server.

        A CBEC server quotes at least :meth:`break_even_price`. A TS server needs no floor:
        it pays its supplier C_cos, so eq. (4) leaves it I_exp·P_CIF on every unit.
        """
        sv, ctx, s = model.servers, model.context, model.settings
        rows = sv.active_rows()
        c_cos = equations.variable_cost(model.market.price, ctx.alpha, sv["escape"][rows],
                                        ctx.tax, ctx.rebate)
        es = sv["kind"][rows] == ES
        iexp = np.where(es, s.iexp, self.params.ts_iexp)
        denominator = 1.0 - ctx.r_fixed - ctx.r_insu - iexp
        kinds = sorted({MODES[k] for k in sv["kind"][rows][denominator <= 0]})  # agent types at fault
        if kinds:
            model.require(False, f"{'/'.join(kinds)} server: CIF denominator 1 - R_fixed - R_insu - I_exp = "
                          f"{denominator.min():g} is not positive (eq. 4)")
        sv["variable_cost"][rows] = c_cos
        cif = equations.cif_price(c_cos, s.ctrans, ctx.r_fixed, ctx.r_insu, iexp)
        sv["cif"][rows] = np.where(es, np.maximum(cif, self.break_even_price(model)), cif)

    @hookimpl
    def ccframe_settle_funds(self, model, year: int) -> None:
        """Pay suppliers by eq. (5) or (6); servers keep the CIF price less their costs.

        A server sells at its CIF price times (1 + ``price_premium``), 0 unless a plugin
        (such as demand personalisation) sets a premium; CBEC suppliers share it via R_re.
        """
        sup, sv, ctx, s = model.suppliers, model.servers, model.context, model.settings
        p = self.params
        rows = sup.active_rows()
        sold, partner = sup["sold"][rows], sup["partner"][rows]
        sale_price = sv["cif"] * (1.0 + sv["price_premium"])
        cif = np.where(partner >= 0, sale_price[np.maximum(partner, 0)], 0.0)
        r_re = self.supplier_share(model)
        cbec = equations.cbec_revenue(sold, cif, r_re) * self.payment_factor()
        traditional = equations.traditional_revenue(sold, model.market.price)
        revenue = np.where(sup["mode"][rows] == ES, cbec, traditional)
        sup["revenue"][rows] = revenue
        sup["profit"][rows] = revenue - sup["cost"][rows]
        sup["funds"][rows] += sup["profit"][rows]

        servers = sv.active_rows()
        kind, units, price = sv["kind"][servers], sv["sold"][servers], sale_price[servers]
        paid_to_supplier = np.where(kind == ES, r_re * price, sv["variable_cost"][servers])
        unit_cost = paid_to_supplier + s.ctrans + (ctx.r_fixed + ctx.r_insu) * sv["cif"][servers]
        sv["revenue"][servers] = units * price
        sv["cost"][servers] = units * unit_cost + p.server_fixed_cost
        sv["profit"][servers] = sv["revenue"][servers] - sv["cost"][servers]
        sv["funds"][servers] += sv["profit"][servers]

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        sup, sv = model.suppliers, model.servers
        rows = sup.active_rows()
        es = sup["mode"][rows] == ES
        revenue, output, sold = sup["revenue"][rows], sup["output"][rows], sup["sold"][rows]
        revenue_ts, revenue_es = float(revenue[~es].sum()), float(revenue[es].sum())
        unit_ts = safe_ratio(revenue_ts, output[~es].sum())
        unit_es = safe_ratio(revenue_es, output[es].sum())
        # per unit sold: the prices of eqs. (5)-(6) alone, without what each mode left unsold
        sold_unit_ts = safe_ratio(revenue_ts, sold[~es].sum())
        sold_unit_es = safe_ratio(revenue_es, sold[es].sum())
        servers = sv.active_rows()
        kind = sv["kind"][servers]
        return {
            "revenue_ts": revenue_ts,
            "revenue_es": revenue_es,
            "unit_revenue_ts": unit_ts,
            "unit_revenue_es": unit_es,
            "unit_revenue_ratio": safe_ratio(unit_es, unit_ts),
            "sold_revenue_ratio": safe_ratio(sold_unit_es, sold_unit_ts),
            "cif_ts": mean_or_nan(sv["cif"][servers][kind == TS]),
            "cif_es": mean_or_nan(sv["cif"][servers][kind == ES]),
            "server_profit_ts": float(sv["profit"][servers][kind == TS].sum()),
            "server_profit_es": float(sv["profit"][servers][kind == ES].sum()),
            "supplier_profit": float(sup["profit"][rows].sum()),
        }


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(CIFFund)
