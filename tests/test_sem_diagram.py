"""The path diagram (``ccframe.sem.diagram``): every latent, item and estimated path, labelled with the fit's values."""

import math
from itertools import combinations

import numpy as np
import polars as pl
import pytest

from ccframe.sem.diagram import FILENAME, draw, layout, number, stars
from ccframe.sem.fit import fit
from ccframe.sem.population import simulate

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def revised():
    return fit("wang2022_revised", simulate(n=481, seed=3576), n_minus_one=True)


def estimated_paths(result):
    """(kind, source, target) -> (std_all, pvalue, label) for every loading, regression and covariance."""
    out = {}
    for r in result.estimates.iter_rows(named=True):
        if r["op"] == "=~":
            out[("loading", r["lhs"], r["rhs"])] = r
        elif r["op"] == "~":
            out[("regression", r["rhs"], r["lhs"])] = r
        elif r["lhs"] != r["rhs"]:
            items = set(result.spec.observed)
            kind = "error_covariance" if {r["lhs"], r["rhs"]} <= items else "covariance"
            out[(kind, r["lhs"], r["rhs"])] = r
    return out


def test_one_node_per_latent_and_retained_item_and_one_edge_per_estimated_path(revised):
    diagram = layout(revised)
    spec = revised.spec
    kinds = {k: sorted(n.name for n in diagram.nodes.values() if n.kind == k) for k in ("latent", "item")}
    assert kinds["latent"] == sorted(["A1", "A2", "B1", "B2", "B3", "B4", "B5", "B6"])
    assert kinds["item"] == sorted(spec.observed) and len(kinds["item"]) == 26
    assert not {"C13", "C14", "C25"} & set(diagram.nodes)                   # dropped: named in a note only
    assert "not modelled: C13, C14, C25" in diagram.notes
    assert sorted(t for _, t in diagram.residuals) == sorted([*spec.observed, "A1", "A2"])
    assert {diagram.nodes[n].label for n in diagram.nodes if diagram.nodes[n].kind == "error"} == \
        {f"e{item[1:]}" for item in spec.observed}                          # the paper's e11 is C11's error
    assert {n.meaning for n in spec.latents} == {n.text for n in diagram.nodes.values() if n.kind == "latent"}

    expected = estimated_paths(revised)
    edges = {(e.kind, e.source, e.target): e for e in diagram.edges}
    assert len(edges) == len(diagram.edges) == len(expected) == 26 + 6 + 16 + 5
    assert edges.keys() == expected.keys()
    for key, edge in edges.items():
        row = expected[key]
        assert edge.std == row["std_all"]
        assert number(edge.std) in edge.label
    h1 = revised.hypotheses().filter(pl.col("label") == "H1").row(0, named=True)
    assert edges[("regression", "B1", "A1")].label == f"H1 {number(h1['std_all'])}{stars(h1['pvalue'])}"
    assert edges[("covariance", "A1", "A2")].hypothesis == "H16"
    assert sum(e.hypothesis is not None for e in diagram.edges) == 16
    assert edges[("error_covariance", "C11", "C12")].label == number(revised.std("C11", "~~", "C12"))


def test_the_layout_keeps_the_two_subsystems_apart_and_no_shapes_overlap(revised):
    diagram = layout(revised)
    nodes = diagram.nodes
    assert all(nodes[b].x < 0 for b in ("B1", "B2", "B3", "A1"))
    assert all(nodes[b].x > 0 for b in ("B4", "B5", "B6", "A2"))
    assert nodes["B1"].y > nodes["B2"].y > nodes["B3"].y and min(nodes["A1"].y, nodes["A2"].y) > nodes["B1"].y
    assert all(abs(nodes[i].x) > abs(nodes["B1"].x) for i in ("C1", "C12", "C15", "C24"))   # items outside
    for a, b in combinations(nodes.values(), 2):
        apart = abs(a.x - b.x) >= (a.width + b.width) / 2 or abs(a.y - b.y) >= (a.height + b.height) / 2
        assert apart, f"{a.name} overlaps {b.name}"


def test_number_and_stars_as_amos_prints_them():
    assert [number(v) for v in (0.2929, -0.051, 1.0, math.nan)] == [".29", "-.05", "1.00", "n/a"]
    assert [stars(p) for p in (1e-5, 0.004, 0.03, 0.2, math.nan)] == ["***", "**", "*", "ns", ""]


def test_a_users_small_model_is_drawn_too(tmp_path):
    from ccframe.sem.spec import spec_from_dict

    spec = spec_from_dict({
        "name": "chain",
        "items": {f"x{i}": f"item {i}" for i in range(1, 10)},
        "latents": {"F": {"items": ["x1", "x2", "x3"]}, "G": {"items": ["x4", "x5", "x6"]},
                    "H": {"items": ["x7", "x8", "x9"]}},
        "regressions": [{"outcome": "G", "predictor": "F", "label": "H1"},
                        {"outcome": "H", "predictor": "G", "label": "H2"}],
    })
    rng = np.random.default_rng(1)
    f = rng.normal(size=400)
    g = 0.6 * f + 0.8 * rng.normal(size=400)
    h = 0.5 * g + 0.85 * rng.normal(size=400)
    data = {f"x{i}": 0.8 * lat + 0.6 * rng.normal(size=400)
            for i, lat in zip(range(1, 10), [f] * 3 + [g] * 3 + [h] * 3, strict=True)}
    result = fit(spec, pl.DataFrame(data))
    diagram = layout(result)
    assert {e.label.split()[0] for e in diagram.edges if e.kind == "regression"} == {"H1", "H2"}
    assert len(diagram.edges) == 9 + 2
    assert diagram.nodes["G"].y == diagram.nodes["H"].y > diagram.nodes["F"].y    # outcomes in the row above
    assert draw(result, tmp_path / FILENAME).stat().st_size > 10_000


def test_the_sem_task_keeps_a_legible_png_in_its_output_folder(tmp_path, capsys):
    from PIL import Image

    from ccframe.runner import Job, compose
    from ccframe.tasks import sem

    config = compose(["task=sem", "task.n=300", "task.revise.enabled=false", "task.preanalysis=false",
                      "task.modification_indices=0", "tracking.enabled=false"])
    sem.run(config, Job(overrides=[], folder=tmp_path))
    path = tmp_path / sem.OUTPUT_DIR / FILENAME
    assert f"ccframe: path diagram: {path}" in capsys.readouterr().err
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"))
    assert 1200 <= width <= 4000 and 900 <= height <= 4000
    assert 0.6 < (pixels > 200).mean() < 0.99                       # mostly white paper, with ink on it
