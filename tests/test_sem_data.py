"""The survey CSV loader: one clear line per malformed file; random malformations never end in a traceback."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccframe.sem.data import read_survey
from ccframe.sem.fit import DataError, SemResult, fit
from ccframe.sem.spec import SpecError, spec_from_dict

ITEMS = ["q1", "q2", "q3", "q4", "q5", "q6"]
SPEC = spec_from_dict({
    "name": "two_factor",
    "scale": {"min": 1, "max": 5},
    "items": {i: "" for i in ITEMS},
    "latents": {"F1": ["q1", "q2", "q3"], "F2": ["q4", "q5", "q6"]},
})


def answers(n=80, seed=0):
    """Five-point answers of a two-factor model (loadings 0.7, factor correlation 0.4)."""
    rng = np.random.default_rng(seed)
    factors = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    latent = np.repeat(factors, 3, axis=1)
    continuous = 0.7 * latent + np.sqrt(1 - 0.49) * rng.standard_normal((n, 6))
    return 1 + np.searchsorted([-1.5, -0.5, 0.5, 1.5], continuous)


def rows(n=80, seed=0):
    return [["id", *ITEMS]] + [[str(k), *map(str, r)] for k, r in enumerate(answers(n, seed), start=1)]


def write(tmp_path, table, delimiter=",", name="survey.csv"):
    path = tmp_path / name
    path.write_text("\n".join(delimiter.join(r) for r in table) + "\n")
    return path


def test_a_good_file_fits(tmp_path):
    frame = read_survey(write(tmp_path, rows()), SPEC)
    assert frame.columns == ITEMS and frame.height == 80
    result = fit(SPEC, frame)
    assert result.converged and result.fit_indices["df"] == 8


def test_other_delimiter_when_told(tmp_path):
    frame = read_survey(write(tmp_path, rows(), ";"), SPEC, delimiter=";")
    assert frame.height == 80


def change_cell(r, c, value):
    def apply(table):
        table[r][c] = value
        return table
    return apply


CASES = [
    ("missing value", change_cell(5, 2, ""), "row(s) have missing values (first in q2)"),
    ("NA token", change_cell(3, 4, "NA"), "missing values"),
    ("non-numeric", change_cell(7, 3, "agree"), "column q3 line 8: 'agree' is not a number"),
    ("out of scale", change_cell(9, 1, "7"), "q1 row 9 is 7, outside the answer scale 1..5"),
    ("not an integer answer", change_cell(9, 1, "2.5"), "outside the answer scale 1..5 (integers)"),
    ("huge number", change_cell(2, 1, "1e999"), "too large to be an answer"),
    ("constant item", lambda t: [t[0]] + [r[:2] + ["3"] + r[3:] for r in t[1:]], "item q2 is constant"),
    ("too few rows", lambda t: t[:11], "10 complete rows for 13 free parameters"),
    ("headers only", lambda t: t[:1], "has a header but no rows"),
    ("missing item column", lambda t: [r[:6] for r in t], "item column(s) q6 missing from the header"),
    ("duplicated column", lambda t: [r + [r[3]] for r in t],
     "column 'q3' appears twice in the header (columns 4 and 8)"),
    ("ragged row", lambda t: t[:4] + [t[4] + ["5"]] + t[5:], "line 5 has 8 fields, the header has 7"),
]


@pytest.mark.parametrize(("case", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_files_get_one_line(tmp_path, case, change, message):
    path = write(tmp_path, change(rows()))
    with pytest.raises(DataError) as err:
        fit(SPEC, read_survey(path, SPEC))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_wrong_delimiter_is_named(tmp_path):
    path = write(tmp_path, rows(), ";")
    with pytest.raises(DataError, match="looks separated by ';', not ','"):
        read_survey(path, SPEC)


def test_empty_missing_and_binary_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        read_survey(empty, SPEC)
    with pytest.raises(DataError, match="no such file"):
        read_survey(tmp_path / "nope.csv", SPEC)
    binary = tmp_path / "survey.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x00")
    with pytest.raises(DataError, match="not UTF-8"):
        read_survey(binary, SPEC)


def test_listwise_drops_incomplete_rows(tmp_path):
    frame = read_survey(write(tmp_path, change_cell(5, 2, "")(rows())), SPEC)
    assert fit(SPEC, frame, missing="listwise").n_obs == 79


def test_cells_are_data_not_code(tmp_path):
    path = write(tmp_path, change_cell(3, 1, "__import__('os').system('echo hi')")(rows()))
    with pytest.raises(DataError, match="is not a number"):
        read_survey(path, SPEC)


# -- property test ------------------------------------------------------------------------------------
def mutations():
    cell = st.tuples(st.integers(0, 80), st.integers(0, 6))
    junk = st.one_of(st.text(max_size=6), st.sampled_from(["", "NA", "0", "6", "-1", "3.5", "1e400", "nan", "inf",
                                                            '"', "4,4", "3;3", " 2 ", "\t"]))
    return st.lists(st.one_of(
        st.tuples(st.just("cell"), cell, junk),
        st.tuples(st.just("truncate"), st.integers(0, 80)),
        st.tuples(st.just("duplicate_column"), st.integers(0, 6)),
        st.tuples(st.just("drop_column"), st.integers(0, 6)),
        st.tuples(st.just("constant"), st.integers(1, 6)),
        st.tuples(st.just("ragged"), st.integers(1, 80)),
        st.tuples(st.just("delimiter"), st.sampled_from([";", "\t", "|", " "])),
    ), max_size=4)


def mutate(table, steps):
    delimiter = ","
    for step in steps:
        kind = step[0]
        width = len(table[0]) if table else 0
        if kind == "cell" and table:
            (r, c), value = step[1], step[2]
            table[r % len(table)][c % width] = value
        elif kind == "truncate":
            table = table[: step[1]]
        elif kind == "duplicate_column" and table:
            c = step[1] % width
            table = [row + [row[c % len(row)]] for row in table]
        elif kind == "drop_column" and table:
            c = step[1] % width
            table = [row[:c] + row[c + 1:] for row in table]
        elif kind == "constant" and table:
            c = step[1] % width
            table = [table[0]] + [row[:c] + ["4"] + row[c + 1:] for row in table[1:]]
        elif kind == "ragged" and len(table) > 1:
            r = 1 + step[1] % (len(table) - 1)
            table[r] = table[r] + ["1"]
        elif kind == "delimiter":
            delimiter = step[1]
    return table, delimiter


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=mutations())
def test_malformed_files_end_in_a_fit_or_one_clean_line(tmp_path, steps):
    table, delimiter = mutate(rows(), steps)
    path = tmp_path / "survey.csv"
    path.write_text("\n".join(delimiter.join(r) for r in table) + ("\n" if table else ""))
    try:
        result = fit(SPEC, read_survey(path, SPEC))
    except (DataError, SpecError) as err:
        message = str(err)
        assert message and "\n" not in message and "Traceback" not in message
    else:
        assert isinstance(result, SemResult)
        if result.converged:  # a fit reports its indices; a failed one says so (checked by the violation checks)
            assert np.isfinite(result.fit_indices["chisq"]) and result.fit_indices["df"] == 8
        else:
            assert result.message
