"""SEM specs: the paper's models as config, validation with one-line errors, compilation."""

import textwrap

import pytest

from ccframe.sem.spec import SPEC_DIR, SpecError, load_spec, spec_from_dict

PAPER_PATHS = {  # hypothesis -> (lhs, op, rhs) as Table 7 pairs them
    "H1": ("A1", "~", "B1"), "H2": ("A1", "~", "B3"), "H3": ("A1", "~", "B2"),
    "H4": ("A2", "~", "B4"), "H5": ("A2", "~", "B6"), "H6": ("A2", "~", "B5"),
    "H7": ("B1", "~~", "B4"), "H8": ("B1", "~~", "B6"), "H9": ("B1", "~~", "B5"),
    "H10": ("B3", "~~", "B4"), "H11": ("B3", "~~", "B6"), "H12": ("B3", "~~", "B5"),
    "H13": ("B2", "~~", "B4"), "H14": ("B2", "~~", "B6"), "H15": ("B2", "~~", "B5"),
    "H16": ("A1", "~~", "A2"),
}


def minimal(**changes):
    spec = {
        "name": "tiny",
        "items": {f"x{i}": f"item {i}" for i in range(1, 7)},
        "latents": {"F": {"items": ["x1", "x2", "x3"]}, "G": {"items": ["x4", "x5", "x6"]}},
        "regressions": [{"outcome": "G", "predictor": "F", "label": "H1"}],
    }
    spec.update(changes)
    return spec


def test_initial_spec_has_the_papers_measurement_model():
    spec = load_spec("wang2022_initial")
    items = {lat.name: sorted(lat.items, key=lambda c: int(c[1:])) for lat in spec.latents}
    c = lambda *ks: [f"C{k}" for k in ks]  # noqa: E731
    assert items == {"B1": c(1, 2, 3, 4), "B2": c(5, 6, 7, 8, 9, 10), "B3": c(11, 12),
                     "B4": c(15, 16, 17, 18), "B5": c(19, 20, 21, 22), "B6": c(23, 24),
                     "A1": c(26, 27), "A2": c(28, 29)}
    assert set(spec.dropped) == {"C13", "C14", "C25"}
    assert len(spec.items) == 29
    # Table 9's markers (unstandardised coefficient 1.000 without an S.E.) come first
    assert [lat.items[0] for lat in spec.latents] == c(3, 7, 11, 17, 21, 23, 26, 29)


def test_hypotheses_label_the_paths_table_7_gives_them():
    labels = {label: key for key, label in load_spec("wang2022_initial").labels().items()}
    expected = {h: (k if k[1] == "~" else (*sorted((k[0], k[2]))[:1], "~~", sorted((k[0], k[2]))[1]))
                for h, k in PAPER_PATHS.items()}
    assert labels == expected


def test_revised_spec_extends_the_initial_with_five_error_covariances():
    initial, revised = load_spec("wang2022_initial"), load_spec("wang2022_revised")
    pairs = {tuple(sorted((r.lhs, r.rhs))) for r in revised.error_covariances}
    assert pairs == {("C11", "C12"), ("C2", "C3"), ("C10", "C9"), ("C17", "C18"), ("C20", "C21")}
    assert revised.latents == initial.latents and revised.labels() == initial.labels()
    assert revised.n_free_parameters() == initial.n_free_parameters() + 5


def test_syntax_lists_every_free_parameter_explicitly():
    spec = load_spec("wang2022_initial")
    text = spec.syntax()
    assert "B1 =~ C3 + C1 + C2 + C4" in text
    assert "A1 ~ B1 + B3 + B2" in text
    assert "A1 ~~ A2" in text
    # exogenous_covariances: free adds the within-subsystem pairs (15 B-B pairs in all)
    bb = [line for line in text.splitlines() if line.startswith("B") and "~~" in line]
    assert len(bb) == 15
    # 26 items: 18 loadings + 26 error variances + 8 latent variances + 6 paths + 16 covariances
    assert spec.n_free_parameters() == 74


def test_listed_mode_keeps_only_the_listed_covariances():
    data = load_spec("wang2022_initial").to_dict()
    data["exogenous_covariances"] = "listed"
    spec = spec_from_dict(data)
    assert spec.n_free_parameters() == 74 - 6


def test_to_dict_round_trips():
    spec = load_spec("wang2022_revised")
    assert spec_from_dict(spec.to_dict()) == spec


def test_user_spec_from_a_yaml_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(textwrap.dedent("""
        name: mine
        items: {q1: a, q2: b, q3: c, q4: d}
        latents:
          F: {items: [q1, q2], meaning: first}
          G: [q3, q4]
        covariances:
          - {between: [F, G], label: H1}
    """))
    spec = load_spec(path)
    assert spec.labels() == {("F", "~~", "G"): "H1"}
    assert spec.syntax().splitlines()[1:3] == ["F =~ q1 + q2", "G =~ q3 + q4"]


def test_nothing_in_a_spec_is_evaluated(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\nitems: {x: y}\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


@pytest.mark.parametrize(("change", "message"), [
    ({"latents": {"F": {"items": ["x1", "x9"]}}}, r"latents\.F\.items: unknown item 'x9'"),
    ({"latents": {"F": {"items": ["x1"]}}}, r"latents\.F\.items: a latent needs at least 2 items"),
    ({"latents": {"F": {"items": ["x1", "x2"]}, "G": {"items": ["x2", "x3"]}}}, "'x2' already measures F"),
    ({"latents": {"F": {"items": ["x1", "x2"], "marker": "x5"}}}, r"latents\.F\.marker: 'x5' is not one of"),
    ({"regressions": [{"outcome": "G", "predictor": "F", "label": "H1"},
                      {"outcome": "G", "predictor": "F"}]}, "regressions: G ~ F is listed twice"),
    ({"covariances": [{"between": ["F", "G"], "label": "H1"}]}, "label 'H1' is used twice"),
    ({"covariances": [{"between": ["F", "Z"]}]}, r"covariances\[0\]: unknown latent 'Z'"),
    ({"error_covariances": [{"between": ["x1", "x1"]}]}, "related to itself"),
    ({"regressions": [{"outcome": "G", "predictor": "F"}, {"outcome": "F", "predictor": "G"}]}, "feedback loop"),
    ({"latents": {"x1": {"items": ["x2", "x3"]}}}, "also an item name"),
    ({"scale": {"min": 5, "max": 1}}, "scale: expected integers with min < max"),
    ({"exogenous_covariances": "all"}, "exogenous_covariances: expected 'free' or 'listed'"),
    ({"colour": "red"}, "unknown key 'colour'"),
])
def test_bad_specs_get_one_line_errors(change, message):
    with pytest.raises(SpecError, match=message) as info:
        spec_from_dict(minimal(**change))
    assert "\n" not in str(info.value)


def test_missing_spec_and_extends_cycle(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec("no_such_model")
    (tmp_path / "a.yaml").write_text("extends: b\n")
    (tmp_path / "b.yaml").write_text("extends: a\n")
    with pytest.raises(SpecError, match="cycle"):
        load_spec(tmp_path / "a.yaml")


def test_specs_ship_in_conf_sem():
    assert (SPEC_DIR / "wang2022_initial.yaml").is_file()
    assert (SPEC_DIR / "wang2022_revised.yaml").is_file()


def test_importing_ccframe_does_not_import_semopy():
    import subprocess
    import sys

    code = "import sys, ccframe, ccframe.sem; print('semopy' in sys.modules, 'factor_analyzer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
