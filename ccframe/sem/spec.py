"""SEM specs as structured YAML: load, validate, compile to semopy/lavaan syntax.

A spec names the questionnaire items and their meanings, the latent variables with
the items that measure them, the structural regressions and covariances (each may
carry a hypothesis label such as ``H1``), and correlated measurement errors. It is
plain data: it is read with ``yaml.safe_load`` (or taken from an OmegaConf/Hydra
node) and nothing in it is ever evaluated. Every problem is reported as a
:class:`SpecError` whose message is one line naming the offending key and value.

Layout (see ``conf/sem/wang2022_initial.yaml`` for a full example)::

    name: my_model
    scale: {min: 1, max: 5}          # optional: the answer scale of the items
    items: {C1: "meaning", ...}      # every item of the questionnaire
    dropped: {C13: "why"}            # optional: declared items left out of the model
    latents:
      B1: {meaning: "...", items: [C1, C2, C3], marker: C3}   # marker: loading fixed to 1
    regressions:
      - {outcome: A1, predictor: B1, label: H1, hypothesis: "..."}
    covariances:
      - {between: [A1, A2], label: H16}
    exogenous_covariances: free      # free (lavaan's default) | listed
    error_covariances:
      - {between: [C11, C12], note: "..."}

``extends: other_spec`` starts from another spec in the same folder (or a path):
mappings are merged, the lists ``regressions``, ``covariances`` and
``error_covariances`` are appended to, other values are replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml


def _spec_dir() -> Path:
    source_tree = Path(__file__).resolve().parents[2] / "conf" / "sem"
    if source_tree.is_dir():
        return source_tree
    return Path(__file__).resolve().parents[1] / "conf" / "sem"  # installed: conf/ ships as ccframe.conf


SPEC_DIR = _spec_dir()
"""Where the shipped specs live (``conf/sem/``; ``ccframe/conf/sem`` when installed)."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_TOP_KEYS = {"name", "title", "source", "description", "scale", "items", "dropped", "latents",
             "regressions", "covariances", "exogenous_covariances", "error_covariances", "extends", "scales"}
_LIST_KEYS = ("regressions", "covariances", "error_covariances")


class SpecError(ValueError):
    """An SEM spec that cannot be used; the message is one line naming key and value."""


@dataclass(frozen=True)
class Latent:
    """A latent variable: its meaning and its items, the marker (loading fixed to 1) first."""

    name: str
    meaning: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """One structural or error relation ``lhs op rhs`` (op ``~`` or ``~~``), maybe labelled."""

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    text: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(lhs, op, rhs) as lavaan writes it; covariances in a canonical order."""
        if self.op == "~~":
            a, b = sorted((self.lhs, self.rhs))
            return (a, "~~", b)
        return (self.lhs, self.op, self.rhs)

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


@dataclass(frozen=True)
class SemSpec:
    """A validated SEM spec. Build it with :func:`load_spec` or :func:`spec_from_dict`."""

    name: str
    items: dict[str, str]
    latents: tuple[Latent, ...]
    regressions: tuple[Relation, ...] = ()
    covariances: tuple[Relation, ...] = ()
    error_covariances: tuple[Relation, ...] = ()
    exogenous_covariances: str = "free"
    scale: tuple[int, int] | None = None
    title: str = ""
    dropped: dict[str, str] = field(default_factory=dict)
    scales: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    """Pre-analysis scales: name -> (latents, items of the scale incl. dropped ones)."""

    # -- derived views -------------------------------------------------------------
    @property
    def observed(self) -> list[str]:
        """The items the model uses, in latent order (marker first within a latent)."""
        return [item for latent in self.latents for item in latent.items]

    @property
    def latent_names(self) -> list[str]:
        return [latent.name for latent in self.latents]

    @property
    def endogenous(self) -> list[str]:
        """Latents that are the outcome of a regression."""
        outcomes = {r.lhs for r in self.regressions}
        return [n for n in self.latent_names if n in outcomes]

    @property
    def exogenous(self) -> list[str]:
        outcomes = {r.lhs for r in self.regressions}
        return [n for n in self.latent_names if n not in outcomes]

    def latent_of(self, item: str) -> str:
        """The latent an item measures."""
        for latent in self.latents:
            if item in latent.items:
                return latent.name
        raise KeyError(item)

    def all_covariances(self) -> list[Relation]:
        """The listed latent covariances, plus every other exogenous pair when free.

        ``exogenous_covariances: free`` is lavaan's ``sem()`` default; order is stable.
        """
        listed = list(self.covariances)
        if self.exogenous_covariances == "free":
            have = {r.key for r in listed}
            for a, b in combinations(self.exogenous, 2):
                rel = Relation(a, "~~", b)
                if rel.key not in have:
                    listed.append(rel)
        return listed

    def labels(self) -> dict[tuple[str, str, str], str]:
        """Hypothesis label of each labelled relation, keyed by (lhs, op, rhs)."""
        rels = (*self.regressions, *self.covariances, *self.error_covariances)
        return {r.key: r.label for r in rels if r.label}

    def syntax(self) -> str:
        """The model in lavaan/semopy syntax (the same text runs in both).

        Every free covariance is written out, so the fit does not depend on a
        library's defaults (semopy is run with ``cov_diag=True``).
        """
        lines = ["# measurement model"]
        lines += [f"{lat.name} =~ {' + '.join(lat.items)}" for lat in self.latents]
        if self.regressions:
            lines.append("# structural regressions")
            for outcome in dict.fromkeys(r.lhs for r in self.regressions):
                preds = [r.rhs for r in self.regressions if r.lhs == outcome]
                lines.append(f"{outcome} ~ {' + '.join(preds)}")
        covs = self.all_covariances()
        if covs:
            lines.append("# latent covariances")
            lines += [str(r) for r in covs]
        if self.error_covariances:
            lines.append("# error covariances")
            lines += [str(r) for r in self.error_covariances]
        return "\n".join(lines) + "\n"

    def n_free_parameters(self) -> int:
        """Free parameters: loadings, error and latent (residual) variances, paths, covariances."""
        loadings = sum(len(lat.items) - 1 for lat in self.latents)
        return (loadings + len(self.observed) + len(self.latents) + len(self.regressions)
                + len(self.all_covariances()) + len(self.error_covariances))

    def with_error_covariance(self, a: str, b: str, note: str = "") -> SemSpec:
        """A copy with one more correlated measurement error (used by the revision loop)."""
        data = self.to_dict()
        data["error_covariances"].append({"between": [a, b], **({"note": note} if note else {})})
        return spec_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, loadable again by :func:`spec_from_dict`."""
        def rel(r: Relation, *, regression: bool) -> dict[str, Any]:
            out: dict[str, Any] = ({"outcome": r.lhs, "predictor": r.rhs} if regression
                                   else {"between": [r.lhs, r.rhs]})
            if r.label:
                out["label"] = r.label
            if r.text:
                out["hypothesis" if r.label else "note"] = r.text
            return out

        data: dict[str, Any] = {
            "name": self.name,
            "items": dict(self.items),
            "latents": {lat.name: {"meaning": lat.meaning, "items": list(lat.items), "marker": lat.items[0]}
                        for lat in self.latents},
            "regressions": [rel(r, regression=True) for r in self.regressions],
            "covariances": [rel(r, regression=False) for r in self.covariances],
            "exogenous_covariances": self.exogenous_covariances,
            "error_covariances": [rel(r, regression=False) for r in self.error_covariances],
        }
        if self.title:
            data["title"] = self.title
        if self.scale:
            data["scale"] = {"min": self.scale[0], "max": self.scale[1]}
        if self.dropped:
            data["dropped"] = dict(self.dropped)
        if self.scales:
            data["scales"] = {name: {"latents": list(lats), "items": list(items)}
                              for name, (lats, items) in self.scales.items()}
        return data


# -- loading ------------------------------------------------------------------------
def load_spec(source: str | Path | dict | Any) -> SemSpec:
    """A validated spec from a shipped name (``"wang2022_revised"``), a YAML path, or a mapping.

    A mapping may be a plain dict or an OmegaConf node (as Hydra composes ``sem=...``).
    """
    if isinstance(source, SemSpec):
        return source
    if isinstance(source, (str, Path)):
        return spec_from_dict(_read(_resolve(source, SPEC_DIR)))
    return spec_from_dict(_plain(source))


def _resolve(source: str | Path, folder: Path) -> Path:
    path = Path(source)
    candidates = [path] if path.suffix in (".yaml", ".yml") else [path.with_suffix(".yaml")]
    if not path.is_absolute():
        candidates += [folder / c for c in candidates]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SpecError(f"sem spec {str(source)!r} not found (looked in {folder})")


def _read(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SpecError(f"sem spec {path}: not valid YAML ({first})") from None
    if not isinstance(data, dict):
        raise SpecError(f"sem spec {path}: expected a mapping at the top, got {type(data).__name__}")
    base = data.get("extends")
    if base is None:
        return data
    if not isinstance(base, str):
        raise SpecError(f"extends: expected the name of another spec, got {base!r}")
    base_path = _resolve(base, path.parent)
    if base_path.resolve() in seen or base_path.resolve() == path.resolve():
        raise SpecError(f"extends: {base!r} extends itself (cycle)")
    return _merge(_read(base_path, (*seen, path.resolve())), data)


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in base.items() if k != "extends"}
    for key, value in child.items():
        if key == "extends":
            continue
        if key in _LIST_KEYS and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _plain(node: Any) -> dict[str, Any]:
    if isinstance(node, dict):
        return node
    try:  # an OmegaConf DictConfig: convert without resolving anything but interpolations
        from omegaconf import OmegaConf

        if OmegaConf.is_config(node):
            return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    raise SpecError(f"sem spec: expected a mapping, got {type(node).__name__}")


# -- validation ---------------------------------------------------------------------
def spec_from_dict(data: dict[str, Any]) -> SemSpec:
    """Validate a spec given as plain data; raise :class:`SpecError` on the first problem."""
    if not isinstance(data, dict):
        raise SpecError(f"sem spec: expected a mapping, got {type(data).__name__}")
    if "extends" in data:
        raise SpecError("extends: only specs read from a file may extend another; merge first")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SpecError(f"sem spec: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")

    name = _text(data.get("name", "sem"), "name")
    items = _mapping(data.get("items"), "items")
    for item, meaning in items.items():
        _check_name(item, "items")
        _text(meaning, f"items.{item}")

    dropped = _mapping(data.get("dropped", {}) or {}, "dropped", allow_empty=True)
    for item in dropped:
        if item not in items:
            raise SpecError(f"dropped.{item}: unknown item {item!r} (not listed under items)")

    latents = _latents(data.get("latents"), items, dropped)
    latent_names = {lat.name for lat in latents}
    owner = {item: lat.name for lat in latents for item in lat.items}

    regressions = tuple(_relation(entry, i, "regressions", latent_names, regression=True)
                        for i, entry in enumerate(_list(data.get("regressions"), "regressions")))
    covariances = tuple(_relation(entry, i, "covariances", latent_names, regression=False)
                        for i, entry in enumerate(_list(data.get("covariances"), "covariances")))
    errors = tuple(_relation(entry, i, "error_covariances", set(owner), regression=False)
                   for i, entry in enumerate(_list(data.get("error_covariances"), "error_covariances")))

    _no_duplicates(regressions, "regressions")
    _no_duplicates(covariances, "covariances")
    _no_duplicates(errors, "error_covariances")
    _no_cycles(regressions)
    labels: dict[str, str] = {}
    for rel in (*regressions, *covariances, *errors):
        if rel.label is None:
            continue
        if rel.label in labels:
            raise SpecError(f"label {rel.label!r} is used twice ({labels[rel.label]} and {rel})")
        labels[rel.label] = str(rel)

    mode = data.get("exogenous_covariances", "free")
    if mode not in ("free", "listed"):
        raise SpecError(f"exogenous_covariances: expected 'free' or 'listed', got {mode!r}")

    return SemSpec(name=name, items=dict(items), latents=latents, regressions=regressions,
                   covariances=covariances, error_covariances=errors, exogenous_covariances=mode,
                   scale=_scale(data.get("scale")), title=str(data.get("title", "") or ""),
                   dropped={k: str(v) for k, v in dropped.items()},
                   scales=_scales(data.get("scales"), latents, items))


def _scales(raw: Any, latents: tuple[Latent, ...], items: dict[str, str]) -> dict[str, tuple[tuple[str, ...],
                                                                                        tuple[str, ...]]]:
    """``scales: {name: {latents: [..], items: [..]}}``: the groups the pre-analysis factors.

    ``items`` lists the scale's items in full (dropped ones too); it defaults to the
    items of its latents.
    """
    if raw is None:
        return {}
    raw = _mapping(raw, "scales")
    by_name = {lat.name: lat for lat in latents}
    out = {}
    for name, body in raw.items():
        where = f"scales.{name}"
        if not isinstance(body, dict) or not isinstance(body.get("latents"), list) or set(body) - {"latents", "items"}:
            raise SpecError(f"{where}: expected {{latents: [...], items: [...]}}, got {body!r}")
        for lat in body["latents"]:
            if lat not in by_name:
                raise SpecError(f"{where}.latents: unknown latent {lat!r}")
        members = body.get("items") or [i for lat in body["latents"] for i in by_name[lat].items]
        for item in members:
            if item not in items:
                raise SpecError(f"{where}.items: unknown item {item!r} (not listed under items)")
        for lat in body["latents"]:
            missing = [i for i in by_name[lat].items if i not in members]
            if missing:
                raise SpecError(f"{where}.items: {missing[0]!r} of latent {lat} is not in the scale")
        out[str(name)] = (tuple(body["latents"]), tuple(members))
    return out


def _latents(raw: Any, items: dict[str, str], dropped: dict[str, Any]) -> tuple[Latent, ...]:
    raw = _mapping(raw, "latents")
    out: list[Latent] = []
    owner: dict[str, str] = {}
    for name, body in raw.items():
        _check_name(name, "latents")
        where = f"latents.{name}"
        if name in items:
            raise SpecError(f"{where}: latent name {name!r} is also an item name")
        if isinstance(body, list):
            body = {"items": body}
        if not isinstance(body, dict):
            raise SpecError(f"{where}: expected a mapping with 'items' (and 'meaning', 'marker'), got {body!r}")
        extra = sorted(set(body) - {"items", "meaning", "marker"})
        if extra:
            raise SpecError(f"{where}: unknown key {extra[0]!r} (allowed: items, meaning, marker)")
        members = body.get("items")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise SpecError(f"{where}.items: expected a list of item names, got {members!r}")
        if len(members) < 2:
            raise SpecError(f"{where}.items: a latent needs at least 2 items, got {len(members)} ({members})")
        for item in members:
            if item not in items:
                raise SpecError(f"{where}.items: unknown item {item!r} (not listed under items)")
            if item in dropped:
                raise SpecError(f"{where}.items: item {item!r} is listed under dropped")
            if item in owner:
                raise SpecError(f"{where}.items: item {item!r} already measures {owner[item]}")
            owner[item] = name
        if len(set(members)) != len(members):
            raise SpecError(f"{where}.items: an item is listed twice in {members}")
        marker = body.get("marker", members[0])
        if marker not in members:
            raise SpecError(f"{where}.marker: {marker!r} is not one of its items {members}")
        ordered = (marker, *[m for m in members if m != marker])
        out.append(Latent(name, str(body.get("meaning", "") or ""), ordered))
    return tuple(out)


def _relation(entry: Any, index: int, section: str, allowed: set[str], *, regression: bool) -> Relation:
    where = f"{section}[{index}]"
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: expected a mapping, got {entry!r}")
    keys = {"outcome", "predictor"} if regression else {"between"}
    extra = sorted(set(entry) - keys - {"label", "hypothesis", "note"})
    if extra:
        raise SpecError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(keys))}, label, "
                        "hypothesis, note)")
    if regression:
        lhs, rhs = entry.get("outcome"), entry.get("predictor")
        if lhs is None or rhs is None:
            raise SpecError(f"{where}: needs both 'outcome' and 'predictor', got {entry!r}")
        op = "~"
    else:
        pair = entry.get("between")
        if not isinstance(pair, list) or len(pair) != 2:
            raise SpecError(f"{where}.between: expected a list of two names, got {pair!r}")
        lhs, rhs = pair
        op = "~~"
    kind = "item" if section == "error_covariances" else "latent"
    for var in (lhs, rhs):
        if var not in allowed:
            raise SpecError(f"{where}: unknown {kind} {var!r} (known: {', '.join(sorted(allowed))})")
    if lhs == rhs:
        raise SpecError(f"{where}: {lhs!r} is related to itself")
    label = entry.get("label")
    if label is not None:
        label = _text(label, f"{where}.label")
        _check_name(label, f"{where}.label")
    text = entry.get("hypothesis", entry.get("note", ""))
    return Relation(lhs, op, rhs, label, str(text or ""))


def _no_duplicates(relations: tuple[Relation, ...], section: str) -> None:
    seen: set[tuple[str, str, str]] = set()
    for rel in relations:
        if rel.key in seen:
            raise SpecError(f"{section}: {rel} is listed twice")
        seen.add(rel.key)


def _no_cycles(regressions: tuple[Relation, ...]) -> None:
    """Recursive models only: a latent may not (indirectly) predict itself."""
    graph: dict[str, set[str]] = {}
    for rel in regressions:
        graph.setdefault(rel.rhs, set()).add(rel.lhs)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    for rel in regressions:
        if reaches(rel.lhs, rel.rhs, {rel.lhs}):
            raise SpecError(f"regressions: {rel} closes a feedback loop (only recursive models are supported)")


def _scale(raw: Any) -> tuple[int, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"min", "max"}:
        raise SpecError(f"scale: expected {{min: <int>, max: <int>}}, got {raw!r}")
    low, high = raw["min"], raw["max"]
    if not (isinstance(low, int) and isinstance(high, int)) or low >= high:
        raise SpecError(f"scale: expected integers with min < max, got min={low!r}, max={high!r}")
    return (low, high)


def _mapping(raw: Any, key: str, *, allow_empty: bool = False) -> dict[str, Any]:
    if not isinstance(raw, dict) or (not raw and not allow_empty):
        raise SpecError(f"{key}: expected a non-empty mapping, got {raw!r}")
    return raw


def _list(raw: Any, key: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecError(f"{key}: expected a list, got {raw!r}")
    return raw


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{key}: expected text, got {value!r}")
    return value


def _check_name(name: Any, key: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{key}: {name!r} is not a valid variable name (letters, digits, _ and .)")


__all__ = ["SPEC_DIR", "Latent", "Relation", "SemSpec", "SpecError", "load_spec", "spec_from_dict"]
