"""The overseas demand space: a grid of cells holding demand that servers observe.

The seed has a Repast space of customer demand (``CustMat.java``) that servers watch
from an observation location within their vision, but gives no layout. Ours (an
assumption, see docs/ODD.md): demand sits in Gaussian hotspots (overseas markets); a
server sees a square window of ``vision`` cells around its location, whole cells inside
and a fractional edge ring; a cell seen by several servers is shared among them by how
much of it each sees. Summed-area tables make each year's matching O(cells + servers)
whatever the visions.
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
        With no demand left anywhere every cell is equally likely (there is nothing to follow).
        """
        cdf = self.grid.ravel().cumsum()
        if cdf[-1] <= 0:
            cdf = np.arange(1.0, cdf.size + 1)
        cdf /= cdf[-1]
        cells = cdf.searchsorted(rng.random(count), side="right")
        return np.divmod(cells, self.size)

    def view(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> DemandView:
        """The windows of servers at ``x, y`` with ``vision`` on this space, for several uses in a year."""
        return DemandView(self, x, y, vision)

    def visible(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> np.ndarray:
        """Demand each server sees: its window's cells, each shared among the servers seeing it."""
        return self.view(x, y, vision).visible()

    def coverage(self, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> np.ndarray:
        """How much of each cell the given servers' windows cover together (see :meth:`DemandView.coverage`)."""
        return self.view(x, y, vision).coverage()

    def scale(self, factor: np.ndarray | float) -> None:
        """Multiply demand, cell by cell or as a whole (growth and shocks)."""
        self.grid *= factor


class DemandView:
    """Servers' windows on a demand space, fixed for a year's uses: what they see, then what they sell.

    The windows and each cell's total weight over them are built once; the commodity
    mechanism computes the visible demand at production and depletes the same windows after
    matching, one pass over the grid fewer than building them twice. Demand is read from the
    space at each call, so growth or sales in between count.
    """

    def __init__(self, space: DemandSpace, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> None:
        self.space = space
        self.windows = _Windows(space.size, x, y, vision) if len(x) else None
        self._weight: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        """Each cell's total weight over the windows (how many servers see it, fractions at edges)."""
        if self._weight is None:
            self._weight = self.windows.weight_per_cell()
        return self._weight

    def visible(self, grid: np.ndarray | None = None) -> np.ndarray:
        """Demand each server sees: its window's cells, each shared among the servers seeing it.

        ``grid`` (shaped like the space's) is read instead of the space's demand, for a part of
        it that the same servers share the same way (a plugin's segment of the demand, say).
        """
        if self.windows is None:
            return np.zeros(0)
        return self.windows.sums((self.space.grid if grid is None else grid) / np.maximum(self.weight, 1.0))

    def coverage(self) -> np.ndarray:
        """How much of each cell the windows cover together (an array shaped like the grid).

        1 per window that holds the cell whole, a fraction for a window's edge ring (see
        :class:`_Windows`); 0 where no window reaches. For plugins that treat some servers
        apart (demand personalisation: which cells no capable server sees); the core model
        does not call it.
        """
        if self.windows is None:
            return np.zeros(self.space.grid.shape)
        weight = self.weight.copy()
        weight[weight < 1e-9] = 0.0  # rounding where windows cancel: a cell no window reaches reads 0
        return weight

    def deplete(self, served: np.ndarray) -> None:
        """Remove from each server's share of every cell it sees the fraction ``served`` of it.

        A cell is split among the servers seeing it by their weights on it (as in
        :meth:`visible`), so it loses the weighted mean of its observers' ``served``
        fractions, scaled by how much of it they see: customers who have bought leave.
        """
        if self.windows is None:
            return
        lost = self.windows.weight_per_cell(np.asarray(served, dtype=float))
        self.space.grid *= np.clip(1.0 - lost / np.maximum(self.weight, 1.0), 0.0, 1.0)


class _Windows:
    """Servers' square windows of ``vision`` cells each, with a fractional edge.

    A server holds whole the largest odd square (side 2h+1) not above its vision and sees the
    ring around it (side 2h+3) at the weight that makes the window cover exactly ``vision``
    cells before clipping at the grid's edge, so what a server sees grows smoothly with its
    vision instead of by whole rings. Kept as 2n plain windows: each server's inner square
    at weight 1 − w and its outer square at weight w.
    """

    def __init__(self, size: int, x: np.ndarray, y: np.ndarray, vision: np.ndarray) -> None:
        vision = np.maximum(np.asarray(vision, dtype=float), 1.0)
        half = np.floor((np.sqrt(vision) - 1.0) / 2.0).astype(np.int64)
        ring = np.clip((vision - (2 * half + 1) ** 2) / (8.0 * (half + 1)), 0.0, 1.0)  # 8(h+1) ring cells
        self.size, self.servers = size, len(x)
        self.weights = np.concatenate([1.0 - ring, ring])
        half, x, y = np.concatenate([half, half + 1]), np.concatenate([x, x]), np.concatenate([y, y])
        last = size - 1
        self.x0, self.x1 = np.clip(x - half, 0, last), np.clip(x + half, 0, last)
        self.y0, self.y1 = np.clip(y - half, 0, last), np.clip(y + half, 0, last)

    def weight_per_cell(self, per_server: np.ndarray | None = None) -> np.ndarray:
        """Each cell's total weight over the windows, each window's weight times ``per_server`` if given.

        A 2-D difference array and its prefix sums, so a cell no window reaches may read a
        rounding residue (about 1e-16) instead of 0.
        """
        weights = self.weights if per_server is None else self.weights * np.tile(per_server, 2)
        side = self.size + 1
        rows_in, rows_out, cols_in, cols_out = self.x0 * side, (self.x1 + 1) * side, self.y0, self.y1 + 1
        both = np.concatenate([weights, weights])
        opened = np.bincount(np.concatenate([rows_in + cols_in, rows_out + cols_out]), both, minlength=side * side)
        closed = np.bincount(np.concatenate([rows_out + cols_in, rows_in + cols_out]), both, minlength=side * side)
        return _summed_area((opened - closed).reshape(side, side))[1:side, 1:side]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Each server's weighted sum of ``values`` over its window, via a summed-area table."""
        table = _summed_area(values)
        x0, x1, y0, y1 = self.x0, self.x1, self.y0, self.y1
        inside = table[x1 + 1, y1 + 1] - table[x0, y1 + 1] - table[x1 + 1, y0] + table[x0, y0]
        return (self.weights * inside).reshape(2, self.servers).sum(axis=0)


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
