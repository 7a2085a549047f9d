"""The fitted model's path diagram, AMOS-style, as a PNG (matplotlib, Agg).

Latent variables are ellipses (name and meaning), observed items rectangles (name and
meaning), measurement errors ``e`` and disturbances ``ζ`` small circles. Every estimated
path is one arrow labelled with its standardised estimate (lavaan's ``std.all``, AMOS's
"standardized estimates"): loadings latent -> item; regressions predictor -> outcome with
the hypothesis label and significance stars (``H1 .29**``); covariances as curved
double-headed arrows, between two exogenous latents, between the disturbances of two
endogenous latents (the paper's H16) and between two measurement errors.

The layout is fixed, not searched, so the same spec always gives the same picture:
latents joined by regressions form blocks; each block goes to the side (left or right)
with fewer items so far. A side's exogenous latents stand in a column, their items
outside them and the errors outermost; the endogenous latents stand in a row above,
their items above them. For the paper's model that is its two subsystems: B1-B3 -> A1 on
the left, B4-B6 -> A2 on the right, the between-subsystem covariances H7-H15 across
the middle. :func:`layout` gives the geometry and the labelled edges (no matplotlib);
:func:`draw` renders it.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

FILENAME = "path_diagram.png"
LATENT_W, LATENT_H = 2.8, 1.6
ITEM_W, ITEM_H = 2.4, 0.8
ERROR_R = 0.28
ROW = 1.05                          # vertical distance between two items of a side column
GROUP_GAP = 0.55                    # extra space between the items of two latents
X_LATENT = 6.0                      # side columns: latents, items, errors (distance from the middle)
X_ITEM = X_LATENT + LATENT_W / 2 + 2.3 + ITEM_W / 2
X_ERROR = X_ITEM + ITEM_W / 2 + 0.75 + ERROR_R
INCH = 0.62                         # inches per layout unit


@dataclass(frozen=True)
class Node:
    """One shape: ``kind`` latent (ellipse), item (rectangle), error or disturbance (circle)."""

    name: str
    kind: str
    x: float
    y: float
    width: float
    height: float
    text: str = ""                  # written under the name: the meaning (latents, items)
    side: int = 0                   # -1 left column, 1 right column, 0 the row of endogenous latents
    label: str = ""                 # what the shape shows (e11, ζ1); the name for latents and items


@dataclass(frozen=True)
class Edge:
    """One estimated path, named as the estimates table names it.

    ``loading``: source latent, target item; ``regression``: source predictor, target
    outcome; ``covariance`` (latents; drawn between the disturbances when endogenous) and
    ``error_covariance`` (items; drawn between their errors): source lhs, target rhs.
    """

    kind: str
    source: str
    target: str
    std: float
    pvalue: float | None
    hypothesis: str | None
    label: str


@dataclass
class Diagram:
    """The geometry of a path diagram: nodes by name, the estimated paths, the residual arrows."""

    nodes: dict[str, Node]
    edges: list[Edge]
    residuals: list[tuple[str, str]] = field(default_factory=list)   # (error or disturbance, item or latent)
    title: str = ""
    notes: list[str] = field(default_factory=list)

    def anchor(self, name: str) -> Node:
        """The node a covariance of ``name`` is drawn from: its error or disturbance if it has one."""
        for residual, target in self.residuals:
            if target == name:
                return self.nodes[residual]
        return self.nodes[name]


def number(value: float | None) -> str:
    """A standardised value as AMOS prints it: two decimals, no leading zero (.29, -.05)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def stars(pvalue: float | None) -> str:
    """Significance stars of a two-sided p (*** < .001, ** < .01, * < .05, ns); none for a fixed parameter."""
    if pvalue is None or not math.isfinite(pvalue):
        return ""
    return "***" if pvalue < 0.001 else "**" if pvalue < 0.01 else "*" if pvalue < 0.05 else "ns"


# -- layout -------------------------------------------------------------------------------
def layout(result: Any, *, admissible: bool = True) -> Diagram:
    """Nodes with their positions and one labelled edge per estimated path of ``result``.

    ``result`` is a :class:`ccframe.sem.fit.SemResult`; ``admissible=False`` (the
    violation checks failed) says so in the title.
    """
    spec = result.spec
    order = {item: k for k, item in enumerate(spec.items)}
    items_of = {lat.name: sorted(lat.items, key=order.__getitem__) for lat in spec.latents}
    meaning = {lat.name: lat.meaning for lat in spec.latents}
    endogenous = set(spec.endogenous)
    depth = _depths(spec)
    sides = _sides(spec, items_of, endogenous)
    nodes: dict[str, Node] = {}
    residuals: list[tuple[str, str]] = []

    def add_item(item: str, x: float, y: float, side: int) -> None:
        nodes[item] = Node(item, "item", x, y, ITEM_W, ITEM_H, spec.items.get(item, ""), side, item)
        error = f"e.{item}"
        if side:
            ex, ey = side * X_ERROR, y
        else:
            ex, ey = x, y + ITEM_H / 2 + 0.75 + ERROR_R
        nodes[error] = Node(error, "error", ex, ey, 2 * ERROR_R, 2 * ERROR_R, "", side, _error_label(item, order))
        residuals.append((error, item))

    # side columns: exogenous latents, their items outside, errors outermost
    top = 0.0
    for side in (-1, 1):
        column = [n for n in spec.latent_names if sides[n] == side and n not in endogenous]
        y = 0.0
        for k, name in enumerate(column):
            if k:
                y -= GROUP_GAP
            ys = []
            for item in items_of[name]:
                add_item(item, side * X_ITEM, y, side)
                ys.append(y)
                y -= ROW
            nodes[name] = Node(name, "latent", side * X_LATENT, sum(ys) / len(ys), LATENT_W, LATENT_H,
                               meaning[name], side, name)
        if column:  # centre the column on y = 0
            shift = -(y + ROW) / 2
            for node in list(nodes.values()):
                if node.side == side:
                    nodes[node.name] = replace(node, y=node.y + shift)
            top = max(top, shift)

    # the row of endogenous latents above, items above them, disturbances at their upper inner side
    row_y = top + ITEM_H / 2 + LATENT_H / 2 + 1.4
    for side in (-1, 1):
        row = [n for n in spec.latent_names if sides[n] == side and n in endogenous]
        row.sort(key=lambda n: -depth[n])  # from the middle outwards: deepest outcome innermost
        edge = 0.55
        for name in row:
            width = max(LATENT_W + 1.6, len(items_of[name]) * (ITEM_W + 0.25))
            centre = side * (edge + width / 2 + 0.9)
            disturbance = f"zeta.{name}"
            nodes[disturbance] = Node(disturbance, "disturbance", centre - side * (LATENT_W / 2 + 0.1),
                                      row_y + LATENT_H / 2 + ERROR_R + 0.02, 2 * ERROR_R, 2 * ERROR_R, "", 0,
                                      f"ζ{spec.endogenous.index(name) + 1}")
            residuals.append((disturbance, name))
            nodes[name] = Node(name, "latent", centre, row_y, LATENT_W, LATENT_H, meaning[name], 0, name)
            n = len(items_of[name])
            for k, item in enumerate(items_of[name]):
                add_item(item, centre + (k - (n - 1) / 2) * (ITEM_W + 0.25), row_y + LATENT_H / 2 + 1.45, 0)
            edge += width + 1.0

    observed = set(spec.observed)
    edges = [_edge(row, observed) for row in result.estimates.iter_rows(named=True)
             if row["op"] in ("=~", "~") or (row["op"] == "~~" and row["lhs"] != row["rhs"])]
    fit = result.fit_indices or {}
    title = f"{spec.name}: standardised estimates (std.all), N = {result.n_obs}"
    if fit:
        title += (f"; χ²/df {fit['chisq_df']:.2f}, GFI {number(fit['gfi'])}, CFI {number(fit['cfi'])}, "
                  f"RMSEA {number(fit['rmsea'])}")
    if not result.converged:
        title += " -- NOT CONVERGED"
    elif not admissible:
        title += " -- NOT ADMISSIBLE (see the violation checks)"
    notes = ["*** p < .001, ** p < .01, * p < .05, ns p ≥ .05 (two-sided); loadings and error covariances "
             "without stars (each latent's marker loading is fixed at 1 unstandardised)",
             "straight arrows: loadings and regressions; curved double-headed arrows: covariances; "
             "e: measurement errors, ζ: disturbances (a covariance of endogenous latents is that of their ζ)"]
    if spec.dropped:
        notes.append(f"not modelled: {', '.join(spec.dropped)}")
    return Diagram(nodes, edges, residuals, title, notes)


def _edge(row: dict[str, Any], observed: set[str]) -> Edge:
    op, lhs, rhs, label = row["op"], row["lhs"], row["rhs"], row["label"]
    std = float(row["std_all"]) if row["std_all"] is not None else math.nan
    p = row["pvalue"]
    p = float(p) if p is not None and math.isfinite(p) else None
    if op == "=~":
        return Edge("loading", lhs, rhs, std, p, label, number(std))
    text = f"{label} " if label else ""
    mark = stars(p)
    starred = f"{text}{number(std)}{' ' if mark == 'ns' else ''}{mark}"  # .29** but .05 ns
    if op == "~":
        return Edge("regression", rhs, lhs, std, p, label, starred)
    if lhs in observed and rhs in observed:
        return Edge("error_covariance", lhs, rhs, std, p, label, f"{text}{number(std)}")
    return Edge("covariance", lhs, rhs, std, p, label, starred)


def _depths(spec: Any) -> dict[str, int]:
    """Longest chain of regressions leading to each latent (0: exogenous)."""
    preds: dict[str, list[str]] = {n: [] for n in spec.latent_names}
    for r in spec.regressions:
        preds[r.lhs].append(r.rhs)
    memo: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in memo:
            memo[name] = 1 + max((depth(p) for p in preds[name]), default=-1)
        return memo[name]

    return {n: depth(n) for n in spec.latent_names}


def _sides(spec: Any, items_of: dict[str, list[str]], endogenous: set[str]) -> dict[str, int]:
    """Latents joined by regressions form a block; each block to the side with fewer items."""
    parent = {n: n for n in spec.latent_names}

    def find(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    for r in spec.regressions:
        parent[find(r.lhs)] = find(r.rhs)
    blocks: dict[str, list[str]] = {}
    for n in spec.latent_names:
        blocks.setdefault(find(n), []).append(n)
    load = {-1: 0, 1: 0}
    sides = {}
    for members in blocks.values():
        side = -1 if load[-1] <= load[1] else 1
        load[side] += sum(len(items_of[n]) for n in members if n not in endogenous) + 1
        sides.update(dict.fromkeys(members, side))
    return sides


def _error_label(item: str, order: dict[str, int]) -> str:
    digits = re.search(r"(\d+)$", item)
    return f"e{digits.group(1) if digits else order[item] + 1}"


# -- drawing ------------------------------------------------------------------------------
def draw(result: Any, path: Path | str, *, admissible: bool = True, dpi: int = 100) -> Path:
    """Draw the path diagram of ``result`` to ``path`` (PNG); return the path."""
    from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, Rectangle

    from ccframe.figures import pyplot

    diagram = layout(result, admissible=admissible)
    plt = pyplot()
    xs = [n.x - n.width / 2 for n in diagram.nodes.values()] + [n.x + n.width / 2 for n in diagram.nodes.values()]
    ys = [n.y - n.height / 2 for n in diagram.nodes.values()] + [n.y + n.height / 2 for n in diagram.nodes.values()]
    x0, x1 = min(xs) - 1.2, max(xs) + 1.2
    arcs_above = any(e.kind == "error_covariance" and not diagram.anchor(e.source).side
                     and not diagram.anchor(e.target).side for e in diagram.edges)
    y0, y1 = min(ys) - 0.6 - 0.45 * len(diagram.notes), max(ys) + (2.1 if arcs_above else 1.3)
    fig = plt.figure(figsize=((x1 - x0) * INCH, (y1 - y0) * INCH))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.axis("off")

    patches = {}
    for node in diagram.nodes.values():
        if node.kind == "latent":
            patch = Ellipse((node.x, node.y), node.width, node.height, facecolor="#e8f0fa", edgecolor="black", lw=1.2)
            ax.text(node.x, node.y + (0.38 if node.text else 0), node.label, ha="center", va="center",
                    fontsize=11, weight="bold", zorder=5)
            ax.text(node.x, node.y - 0.12, textwrap.fill(node.text, 24), ha="center", va="center", fontsize=7.5,
                    linespacing=1.0, zorder=5)
        elif node.kind == "item":
            patch = Rectangle((node.x - node.width / 2, node.y - node.height / 2), node.width, node.height,
                              facecolor="white", edgecolor="black", lw=1.0)
            ax.text(node.x, node.y + (0.2 if node.text else 0), node.label, ha="center", va="center", fontsize=9,
                    weight="bold", zorder=5)
            ax.text(node.x, node.y - 0.14, textwrap.fill(node.text, 27), ha="center", va="center", fontsize=6.5,
                    linespacing=0.95, zorder=5)
        else:
            patch = Circle((node.x, node.y), ERROR_R, facecolor="white", edgecolor="black", lw=0.9)
            ax.text(node.x, node.y, node.label, ha="center", va="center", fontsize=7, zorder=5)
        patch.set_zorder(4)
        ax.add_patch(patch)
        patches[node.name] = patch

    def arrow(a: Node, b: Node, *, style: str, rad: float = 0.0, clip: bool = True, color: str = "black",
              pos_a: tuple[float, float] | None = None, pos_b: tuple[float, float] | None = None,
              lw: float = 0.9) -> None:
        ax.add_patch(FancyArrowPatch(pos_a or (a.x, a.y), pos_b or (b.x, b.y), arrowstyle=style,
                                     connectionstyle=f"arc3,rad={rad}", mutation_scale=11, lw=lw, color=color,
                                     patchA=patches[a.name] if clip else None,
                                     patchB=patches[b.name] if clip else None, shrinkA=1, shrinkB=1, zorder=2))

    def label(x: float, y: float, text: str, *, size: float = 8, color: str = "black") -> None:
        ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=6,
                bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})

    for residual, target in diagram.residuals:
        arrow(diagram.nodes[residual], diagram.nodes[target], style="-|>", color="0.35")

    ranks = {**_ranks(diagram, -1), **_ranks(diagram, 1)}
    for edge in diagram.edges:
        if edge.kind == "loading":
            a, b = diagram.nodes[edge.source], diagram.nodes[edge.target]
            arrow(a, b, style="-|>")
            t = 0.6 if a.side else 0.55
            label(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), edge.label)
        elif edge.kind == "regression":
            a, b = diagram.nodes[edge.source], diagram.nodes[edge.target]
            rad = 0.0
            if a.side and not b.side:  # from a side column up to the row: bend inwards past the latents above
                above = sum(1 for n in diagram.nodes.values()
                            if n.kind == "latent" and n.side == a.side and n.y > a.y)
                rad = _toward((a.x, a.y), (b.x, b.y), (-a.side, 0.0), 0.2 * above)
            arrow(a, b, style="-|>", rad=rad, color="#1f4e9a")
            mx, my = _bezier_mid((a.x, a.y), (b.x, b.y), rad)
            label(mx, my, edge.label, size=8.5, color="#1f4e9a")
        else:
            _draw_covariance(diagram, edge, arrow, label, ranks)

    ax.text((x0 + x1) / 2, y1 - 0.55, diagram.title, ha="center", va="center", fontsize=13, weight="bold")
    for k, note in enumerate(diagram.notes):
        ax.text(x0 + 0.4, y0 + 0.35 + 0.45 * (len(diagram.notes) - 1 - k), note, ha="left", va="center",
                fontsize=8.5, color="0.25")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white")
    plt.close(fig)
    return path


def _draw_covariance(diagram: Diagram, edge: Edge, arrow: Any, label: Any, ranks: dict[str, int]) -> None:
    a, b = diagram.anchor(edge.source), diagram.anchor(edge.target)
    error = edge.kind == "error_covariance"
    color = "#8a3b12" if error else "#2e7d32" if edge.hypothesis else "0.45"
    if a.side and a.side == b.side:
        # same column: an arc on the column's free side (errors: outside; latents: inside)
        outward = a.side if a.kind == "error" else -a.side
        if a.kind == "latent":  # leave and reach each ellipse at its own point, longer arcs outside shorter ones
            span = abs(ranks[a.name] - ranks[b.name])
            angle = math.radians(max(60 - 24 * (span - 1), 8))
            pa, pb = (_on_ellipse(a, outward, -angle if a.y > b.y else angle),
                      _on_ellipse(b, outward, -angle if b.y > a.y else angle))
        else:
            pa, pb = (a.x + outward * a.width / 2, a.y), (b.x + outward * b.width / 2, b.y)
        rad = _toward(pa, pb, (outward, 0.0), 0.55 if a.kind == "error" else 0.22)
        arrow(a, b, style="<|-|>", rad=rad, clip=False, color=color, pos_a=pa, pos_b=pb,
              lw=0.9 if edge.hypothesis or error else 0.7)
        mx, my = _bezier_mid(pa, pb, rad)
        label(mx + outward * 0.32, my, edge.label, color=color)
    elif a.side and b.side:
        # across the middle: a nearly straight line, labels staggered by the right-hand latent
        left, right = (a, b) if a.side < 0 else (b, a)
        count = sum(1 for n in diagram.nodes.values() if n.kind == "latent" and n.side == right.side)
        t = (ranks[right.name] + 1) / (count + 1)
        rad = _toward((left.x, left.y), (right.x, right.y), (0.0, 1.0), 0.04)
        arrow(left, right, style="<|-|>", rad=rad, color=color)
        px, py = _bezier_point((left.x, left.y), (right.x, right.y), rad, t)
        label(px, py, edge.label, color=color)
    elif a.kind == b.kind == "disturbance":
        # two disturbances: an arc below them, through the gap between their latents
        toward = 1 if b.x > a.x else -1
        pa, pb = (a.x + toward * ERROR_R, a.y), (b.x - toward * ERROR_R, b.y)
        rad = _toward(pa, pb, (0.0, -1.0), 0.45)
        arrow(a, b, style="<|-|>", rad=rad, clip=False, color=color, pos_a=pa, pos_b=pb)
        mx, my = _bezier_mid(pa, pb, rad)
        label(mx, my - 0.2, edge.label, color=color)
    else:
        # errors of the top row's items, or a mixed pair: an arc above
        pa, pb = (a.x, a.y + a.height / 2), (b.x, b.y + b.height / 2)
        rad = _toward(pa, pb, (0.0, 1.0), 0.6)
        arrow(a, b, style="<|-|>", rad=rad, clip=False, color=color, pos_a=pa, pos_b=pb)
        mx, my = _bezier_mid(pa, pb, rad)
        label(mx, my + 0.25, edge.label, color=color)


def _ranks(diagram: Diagram, side: int) -> dict[str, int]:
    column = sorted((n for n in diagram.nodes.values() if n.kind == "latent" and n.side == side), key=lambda n: -n.y)
    return {n.name: k for k, n in enumerate(column)}


def _on_ellipse(node: Node, direction: int, angle: float) -> tuple[float, float]:
    """The point of a latent's ellipse at ``angle`` (radians, up positive) from its side ``direction`` (+-1)."""
    return node.x + direction * node.width / 2 * math.cos(angle), node.y + node.height / 2 * math.sin(angle)


def _toward(pa: tuple[float, float], pb: tuple[float, float], direction: tuple[float, float], size: float) -> float:
    """The arc3 ``rad`` (matplotlib) that bends the segment pa-pb towards ``direction`` by ``size``."""
    dx, dy = pb[0] - pa[0], pb[1] - pa[1]
    return size if dy * direction[0] - dx * direction[1] >= 0 else -size


def _bezier_point(pa: tuple[float, float], pb: tuple[float, float], rad: float, t: float) -> tuple[float, float]:
    """A point of matplotlib's arc3 curve (a quadratic Bézier; equal aspect, so data = display geometry)."""
    dx, dy = pb[0] - pa[0], pb[1] - pa[1]
    cx, cy = (pa[0] + pb[0]) / 2 + rad * dy, (pa[1] + pb[1]) / 2 - rad * dx
    u = 1 - t
    return u * u * pa[0] + 2 * u * t * cx + t * t * pb[0], u * u * pa[1] + 2 * u * t * cy + t * t * pb[1]


def _bezier_mid(pa: tuple[float, float], pb: tuple[float, float], rad: float) -> tuple[float, float]:
    return _bezier_point(pa, pb, rad, 0.5)
