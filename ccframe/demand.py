"""The overseas demand space: a grid of cells holding demand that servers observe.

The seed has a Repast space of customer demand (``CustMat.java``) that servers watch
from an observation location within their vision, but gives no layout. Ours (an
assumption, see docs/ODD.md): demand sits in Gaussian hotspots (overseas markets); a
server sees the square window of ``vision`` cells around its location; a cell seen
by k servers is shared equally among them. Summed-area tables make each year's
matching O(cells + servers) whatever the visions.
"""

from __future__ import annotations

import numpy as np


class DemandSpace:
    """A ``size`` x ``size`` grid of demand (units per year at the reference price)."""

    def __init__(self, grid: np.ndarray) -> None:
        self.grid = grid

    @classmethod
    def hotspots(cls, size: int, count: int, radius: float, rng: np.random.Generator) -> DemandSpace:
        """Demand concentrated in ``count`` Gaussian hotspots of random weight; total 1."""
        centres = rng.uniform(0, size, size=(count, 2))
        weights = rng.lognormal(0.0, 0.5, size=count)
        cells = np.arange(size) + 0.5
        grid = np.zeros((size, size))
        for (cx, cy), w in zip(centres, weights, strict=True):
            gx = np.exp(-0.5 * ((cells - cx) / radius) ** 2)
            gy = np.exp(-0.5 * ((cells - cy) / radius) ** 2)
            grid += w * np.outer(gx, gy)
        grid += 1e-6 * grid.max()  # a thin background so no cell is exactly empty
        return cls(grid / grid.sum())

    @property
    def size(self) -> int:
        """Side of the grid in cells."""
        return self.grid.shape[0]

    @property
    def total(self) -> float:
        """Total demand in the space."""
        return float(self.grid.sum())

    def sample_locations(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Observation locations for ``count`` servers, drawn with probability ∝ demand.

        Inverse-CDF sampling over the cells: the draws ``rng.choice(cells, p=...)`` makes,
        without its checks of ``p``, which cost more than the sampling on a 10^6-cell grid.
        """
        cdf = self.grid.ravel().cumsum()
        cdf /= cdf[-1]
        cells = cdf.searchsorted(rng.random(count), side="right")
        return np.divmod(cells, self.size)

    def visible(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> np.ndarray:
        """Demand each server sees: its window's cells, each shared among the servers seeing it."""
        if len(x) == 0:
            return np.zeros(0)
        x0, x1, y0, y1 = self._windows(x, y, vision)
        coverage = _window_counts(self.size, x0, x1, y0, y1)
        share = self.grid / np.maximum(coverage, 1)
        return _window_sums(share, x0, x1, y0, y1)

    def coverage(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> np.ndarray:
        """How many of the given servers' windows cover each cell (an int array shaped like ``grid``).

        The windows are those of :meth:`visible`. For plugins that treat some servers
        apart (demand personalisation: which cells no capable server sees); the core
        model does not call it.
        """
        if len(x) == 0:
            return np.zeros(self.grid.shape, dtype=np.int32)
        return _window_counts(self.size, *self._windows(x, y, vision))

    def _windows(self, x, y, vision):
        half = np.maximum(0, np.rint((np.sqrt(vision) - 1.0) / 2.0)).astype(np.int64)
        last = self.size - 1
        return (np.clip(x - half, 0, last), np.clip(x + half, 0, last),
                np.clip(y - half, 0, last), np.clip(y + half, 0, last))

    def deplete(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray, served: np.ndarray) -> None:
        """Remove from each server's share of every cell it sees the fraction ``served`` of it.

        A cell seen by k servers is split k ways (as in :meth:`visible`), so it loses
        the mean of its observers' ``served`` fractions: customers who have bought leave.
        """
        if len(x) == 0:
            return
        x0, x1, y0, y1 = self._windows(x, y, vision)
        coverage = _window_counts(self.size, x0, x1, y0, y1)
        served_sum = _window_counts(self.size, x0, x1, y0, y1, weights=np.asarray(served, dtype=float))
        self.grid *= np.clip(1.0 - served_sum / np.maximum(coverage, 1), 0.0, 1.0)

    def scale(self, factor: np.ndarray | float) -> None:
        """Multiply demand, cell by cell or as a whole (growth and shocks)."""
        self.grid *= factor


def _window_counts(size: int, x0, x1, y0, y1, weights: np.ndarray | None = None) -> np.ndarray:
    """How many windows cover each cell, or the sum of their ``weights`` (2-D difference array, prefix sums)."""
    side = size + 1
    rows_in, rows_out, cols_in, cols_out = x0 * side, (x1 + 1) * side, y0, y1 + 1
    both = None if weights is None else np.concatenate([weights, weights])
    opened = np.bincount(np.concatenate([rows_in + cols_in, rows_out + cols_out]), both, minlength=side * side)
    closed = np.bincount(np.concatenate([rows_out + cols_in, rows_in + cols_out]), both, minlength=side * side)
    diff = opened - closed
    diff = (diff.astype(np.int32) if weights is None else diff).reshape(side, side)
    return _summed_area(diff)[1:side, 1:side]


def _window_sums(values: np.ndarray, x0, x1, y0, y1) -> np.ndarray:
    """Sum of ``values`` over each inclusive window, via a summed-area table."""
    table = _summed_area(values)
    return table[x1 + 1, y1 + 1] - table[x0, y1 + 1] - table[x1 + 1, y0] + table[x0, y0]


def _summed_area(values: np.ndarray) -> np.ndarray:
    """Table T (one row and column larger) with T[i, j] = values[:i, :j].sum().

    The same additions in the same order as ``values.cumsum(0).cumsum(1)``, but down the
    rows one contiguous row at a time, which on a 1000 x 1000 grid is several times faster
    than NumPy's strided accumulation along axis 0.
    """
    table = np.empty((values.shape[0] + 1, values.shape[1] + 1), dtype=values.dtype)
    table[0], table[:, 0] = 0, 0
    inner = table[1:, 1:]
    inner[0] = values[0]
    for row in range(1, values.shape[0]):
        np.add(inner[row - 1], values[row], out=inner[row])
    np.cumsum(inner, axis=1, out=inner)
    return table
