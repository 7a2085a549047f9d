"""Columnar agent state: one NumPy array per attribute, one row per agent.

Mechanisms work on whole columns (vectorised); Mesa agent objects are views onto a
row. Rows are never reused or moved: an agent that exits keeps its row with
``active`` set to False, so a row number identifies an agent for the whole run.
"""

from __future__ import annotations

import numpy as np


class AgentTable:
    """Growable struct-of-arrays with an ``active`` mask."""

    def __init__(self, columns: dict[str, np.dtype | type], capacity: int = 16) -> None:
        self._dtypes = {"active": np.dtype(bool), **{k: np.dtype(v) for k, v in columns.items()}}
        self._capacity = max(capacity, 16)
        self._data = {k: np.zeros(self._capacity, dtype=t) for k, t in self._dtypes.items()}
        self.size = 0

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the table's columns."""
        return tuple(self._dtypes)

    def col(self, name: str) -> np.ndarray:
        """The live column ``name`` over all rows ever added (a view: writes go to the table)."""
        return self._data[name][: self.size]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.col(name)

    def active_rows(self) -> np.ndarray:
        """Row numbers of the agents still in the model."""
        return np.flatnonzero(self.col("active"))

    @property
    def n_active(self) -> int:
        """Number of agents still in the model."""
        return int(self.col("active").sum())

    def add(self, count: int, **values) -> np.ndarray:
        """Append ``count`` active rows; ``values`` are scalars or arrays per column."""
        unknown = set(values) - set(self._dtypes)
        if unknown:
            raise KeyError(f"unknown column(s) {sorted(unknown)}; columns are {self.columns}")
        start, stop = self.size, self.size + count
        if stop > self._capacity:
            self._grow(stop)
        for name, column in self._data.items():
            column[start:stop] = values.get(name, 0)
        self._data["active"][start:stop] = True
        self.size = stop
        return np.arange(start, stop)

    def deactivate(self, rows: np.ndarray) -> None:
        """Mark ``rows`` as gone; their values stay readable for the record."""
        self._data["active"][rows] = False

    def _grow(self, needed: int) -> None:
        while self._capacity < needed:
            self._capacity *= 2
        for name, column in self._data.items():
            bigger = np.zeros(self._capacity, dtype=column.dtype)
            bigger[: self.size] = column[: self.size]
            self._data[name] = bigger
