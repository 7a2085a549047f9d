"""Write calibrated values into conf/ in place, keeping every comment, and record their provenance.

A parameter ``group.key`` lives in the option file the primary config selects for
``group`` (``conf/<group>/<option>.yaml``), a top-level knob in ``conf/config.yaml``,
and ``servers.es.capacity`` one level deeper inside its file. Each written line keeps
its comment and gains ``[calibrated: <study>]``; a provenance header (study, date,
objective, command) per study is kept at the top of each edited file, and the same
table goes into docs/ODD.md between the study's markers. A later study that refines some
keys (``--space`` with fewer keys) leaves the earlier study's provenance in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from omegaconf import OmegaConf

ODD_BEGIN, ODD_END = "<!-- calibration:begin -->", "<!-- calibration:end -->"  # with the study's name
HEADER = "# Provenance of [calibrated] values: "
CALIBRATION_HEADING = "### 3.7"  # docs/ODD.md: where new studies' sections go


def _option_files(conf: Path) -> dict[str, Path]:
    """Config group -> the YAML option the primary config's defaults list selects."""
    files = {}
    for entry in OmegaConf.load(conf / "config.yaml").defaults:
        if isinstance(entry, Mapping) or OmegaConf.is_dict(entry):
            for group, option in dict(entry).items():
                files[group] = conf / group / f"{option}.yaml"
    return files


def locate(conf: Path, key: str) -> tuple[Path, list[str]]:
    """The file holding ``key`` and the key path inside it."""
    head, *rest = key.split(".")
    files = _option_files(conf)
    if rest and head in files:
        return files[head], rest
    return conf / "config.yaml", [head, *rest]


def _set_line(lines: list[str], path: list[str], value: float, tag: str) -> None:
    """Replace the scalar at ``path`` (block-style YAML, two-space indents), keeping its comment."""
    start, indent = 0, 0
    for depth, name in enumerate(path):
        pattern = re.compile(rf"^{' ' * indent}{re.escape(name)}:(\s*)([^#\n]*?)(\s*#.*)?$")
        for row in range(start, len(lines)):
            match = pattern.match(lines[row])
            if match:
                break
        else:
            raise KeyError(f"{'.'.join(path)}: no line '{name}:' found")
        if depth == len(path) - 1:
            comment = (match.group(3) or "").strip()
            comment = re.sub(r"\s*\[calibrated: [^\]]*\]", "", comment)
            comment = f"{comment} [{tag}]" if comment else f"# [{tag}]"
            lines[row] = f"{' ' * indent}{name}: {_yaml_float(value)}  {comment}"
            return
        start, indent = row + 1, indent + 2


def _yaml_float(value: float) -> str:
    """Six significant digits, always read back by YAML as a float (900 -> 900.0)."""
    text = f"{value:.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


def as_written(value: float) -> float:
    """The value conf/ holds once :func:`write` has written ``value`` (six significant digits)."""
    return float(_yaml_float(value))


def write(conf: Path, values: Mapping[str, float], provenance: str, study: str) -> list[Path]:
    """Write ``values`` into conf/ with provenance; return the files changed."""
    by_file: dict[Path, list[tuple[list[str], float]]] = {}
    for key, value in values.items():
        path, inner = locate(conf, key)
        by_file.setdefault(path, []).append((inner, value))
    for path, items in by_file.items():
        lines = path.read_text().splitlines()
        lines = [line for line in lines if not line.startswith(f"{HEADER}Optuna study '{study}'")]
        for inner, value in items:
            _set_line(lines, inner, value, f"calibrated: {study}")
        insert = 2 if lines and lines[0].startswith("# @package") else (1 if lines and lines[0].startswith("#") else 0)
        lines.insert(insert, HEADER + provenance)
        path.write_text("\n".join(lines) + "\n")
    return sorted(by_file)


def record_in_odd(odd: Path, section: str, study: str) -> None:
    """Replace the section of docs/ODD.md for ``study`` (between its markers) by ``section``.

    A new study's section goes at the end of the calibration section (3.7), before the next
    top-level heading, or at the end of the file if there is none.
    """
    text = odd.read_text()
    begin, end = ODD_BEGIN.replace("begin", f"{study}:begin"), ODD_END.replace("end", f"{study}:end")
    block = f"{begin}\n{section.strip()}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        calibration = text.find(CALIBRATION_HEADING)
        following = text.find("\n## ", calibration) if calibration >= 0 else -1
        at = following if following >= 0 else len(text)
        text = text[:at].rstrip() + "\n\n" + block + "\n" + text[at:]
    odd.write_text(text)
