"""The seed's three agent types as Mesa agents (seed Tables I-III).

Supplier and server agents are views: their state lives in a row of the model's
columnar tables (``model.suppliers``, ``model.servers``) so mechanisms can work on
whole columns at once, while a user still inspects ``model.agents_by_type[Supplier]``
the Mesa way. Views are made lazily (:class:`RowViews`): a run with 10^5 suppliers
builds none unless someone asks for the model's agents. The context agent is a
single object holding the government side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from ccframe.modes import ES, MODES, TS

if TYPE_CHECKING:
    from ccframe.model import CoevolutionModel

__all__ = ["ES", "TS", "Context", "RowViews", "Server", "Supplier"]  # ES, TS: where plugins have imported them


class _Column:
    """A Mesa-agent attribute read from and written to its row of a table column."""

    def __init__(self, table: str, doc: str) -> None:
        self.table, self.__doc__ = table, doc

    def __set_name__(self, owner, name: str) -> None:
        self.column = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(agent.model, self.table).col(self.column)[agent.row].item()

    def __set__(self, agent, value) -> None:
        getattr(agent.model, self.table).col(self.column)[agent.row] = value


class Supplier(mesa.Agent):
    """A manufacturer of the cluster (seed Table I); row ``row`` of ``model.suppliers``."""

    scale = _Column("suppliers", "S_i, production scale")
    scale_class = _Column("suppliers", "1, 2 or 3 for the seed's S1, S2, S3")
    funds = _Column("suppliers", "available funds")
    output = _Column("suppliers", "this year's output O_S,i (eq. 2)")
    sold = _Column("suppliers", "this year's matched volume O'_S,i")
    revenue = _Column("suppliers", "this year's revenue (eq. 5 or 6)")
    profit = _Column("suppliers", "this year's revenue less production cost")
    reproduction_time = _Column("suppliers", "t_r, days to reproduce the output (eq. 12)")
    partner = _Column("suppliers", "row of the server it exports through")

    def __init__(self, model: CoevolutionModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def export_mode(self) -> str:
        """``"TS"`` (traditional export) or ``"ES"`` (cross-border e-commerce)."""
        return MODES[self.model.suppliers.col("mode")[self.row]]


class Server(mesa.Agent):
    """A traditional-export (TS) or CBEC (ES) service provider (seed Table II)."""

    x = _Column("servers", "observation location, row of the demand space")
    y = _Column("servers", "observation location, column of the demand space")
    vision = _Column("servers", "cells of the demand space observed (eq. 7)")
    escape = _Column("servers", "escape degree in [0, 1]: share of operations outside supervision (eq. 8)")
    transport_time = _Column("servers", "days of transport per transaction (eq. 11)")
    cif = _Column("servers", "quoted CIF price (eq. 4)")
    funds = _Column("servers", "available funds")
    sold = _Column("servers", "units sold this year")

    def __init__(self, model: CoevolutionModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def kind(self) -> str:
        """``"TS"`` or ``"ES"``."""
        return MODES[self.model.servers.col("kind")[self.row]]


class RowViews:
    """The Mesa agents viewing one table's active rows, brought up to date on demand.

    ``sync()`` registers a view (an ``agent_class(model, row)``) for every active row
    that has none and removes the views of rows that have left, so the model's Mesa
    agent sets hold exactly the agents in the model whenever they are read. A row keeps
    the same view object for as long as it stays active.
    """

    def __init__(self, model: CoevolutionModel, table: str, agent_class: type[mesa.Agent]) -> None:
        self._model, self._table, self._agent_class = model, table, agent_class
        self._views: dict[int, mesa.Agent] = {}
        self._viewed = np.zeros(0, dtype=bool)

    def sync(self) -> None:
        """Create views for new active rows, remove those of rows no longer active."""
        active = getattr(self._model, self._table).col("active")
        viewed = np.zeros(active.size, dtype=bool)
        viewed[: self._viewed.size] = self._viewed
        for row in np.flatnonzero(viewed & ~active).tolist():
            self._views.pop(row).remove()
        for row in np.flatnonzero(active & ~viewed).tolist():
            self._views[row] = self._agent_class(self._model, row)
        self._viewed = active.copy()


class Context(mesa.Agent):
    """Government behaviour and market conditions (seed Table III).

    alpha: supervision (eq. 8); beta: infrastructure (eq. 9); gamma: efficiency
    (eq. 10); r_fixed and t_co are the state those act on. Market demand lives in
    ``model.demand`` and ``model.market``.
    """

    def __init__(self, model: CoevolutionModel) -> None:
        super().__init__(model)
        s = model.settings
        self.alpha, self.beta, self.gamma = s.alpha, s.beta, s.gamma
        self.r_fixed = s.context.r_fixed0
        self.r_insu = s.context.r_insu
        self.t_co = s.context.t_co0
        self.tax, self.rebate = s.context.tax, s.context.rebate
