"""The public plugin API of ccframe: every hook a plugin may implement.

Two kinds of plugin meet here:

* **Plugin modules** (built-in ones listed in ``ccframe.plugins.DEFAULT_PLUGINS``,
  third-party ones found through the ``ccframe`` entry-point group) implement the
  *registration* hooks: they tell ccframe which mechanisms they provide and where
  their Hydra config lives.
* **Mechanism objects** (instances of :class:`ccframe.mechanism.Mechanism`) implement
  the *phase* hooks. A model instantiates the one implementation that its config
  chooses for each mechanism slot and registers those objects with a plugin manager
  of its own, so only active mechanisms take part in a simulated year.

A simulated year ``t`` runs the phases in this order (``t = 0`` is the base year and
skips the four evolution phases)::

    update_context -> progress_technology -> enter_expand_exit -> choose_export_mode   (t >= 1)
    produce -> quote_prices -> match_supply_demand -> settle_funds -> collect_metrics

Within a phase every active mechanism that implements the hook is called, in slot
order (commodity, fund, information, technology, export_choice, lifecycle, then
slots added by plugins); use ``tryfirst``/``trylast`` to run earlier or later. Once the
cluster has died out (no supplier or no server left, checked before each operating phase
and after the last) no hook runs again: the model records NaN metrics (docs/ODD.md 3.3.6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ccframe.mechanism import Mechanism
    from ccframe.model import CoevolutionModel

hookspec = pluggy.HookspecMarker("ccframe")
hookimpl = pluggy.HookimplMarker("ccframe")


# --------------------------------------------------------------------------- registration


@hookspec
def ccframe_register_mechanisms(register: Callable[[type[Mechanism]], None]) -> None:
    """Register the mechanism implementations a plugin module provides.

    Called once, when the plugin manager is built. Call ``register(cls)`` for each
    :class:`~ccframe.mechanism.Mechanism` subclass; ``cls.slot`` names the slot it can
    fill (an existing one such as ``"fund"`` to offer an alternative, or a new one to
    add a mechanism) and ``cls.name`` is what config selects with ``<slot>.impl``.
    Returns nothing.
    """


@hookspec
def ccframe_config_searchpath() -> list[str]:
    """Return Hydra search-path entries that hold this plugin's config groups.

    Called once per CLI or :func:`ccframe.simulate` invocation, before Hydra composes
    the config. Each entry is a Hydra search path such as
    ``"pkg://my_plugin.conf"``; its groups (for example ``mechanism/my_mech.yaml``)
    become selectable with ``+mechanism=my_mech``. Every plugin's list is used.
    """


# --------------------------------------------------------------------------- build


@hookspec
def ccframe_setup(model: CoevolutionModel) -> None:
    """Prepare a mechanism's own state once the initial agents exist.

    Called once per model (per replicate), after the initial suppliers, servers and
    context agent are created and before year 0. Returns nothing.
    """


# --------------------------------------------------------------------------- evolution phases (t >= 1)


@hookspec
def ccframe_update_context(model: CoevolutionModel, year: int) -> None:
    """Change the context and let servers perceive it.

    Called first in every year ``t >= 1``: market demand moves, government
    supervision (alpha), infrastructure (beta, eq. 9) and efficiency (gamma, eq. 10)
    act, and servers adjust to what they perceive (vision). Returns nothing.
    """


@hookspec
def ccframe_progress_technology(model: CoevolutionModel, year: int) -> None:
    """Advance technology: servers' transport times, suppliers' reproduction times.

    Called in every year ``t >= 1`` after :func:`ccframe_update_context`, using the
    previous year's state (export modes, partners). Returns nothing.
    """


@hookspec
def ccframe_enter_expand_exit(model: CoevolutionModel, year: int) -> None:
    """Let agents enter, change scale or exit, from the previous year's results.

    Called in every year ``t >= 1`` after technology progress. Add agents with
    ``model.add_suppliers``/``model.add_servers`` and remove them with
    ``model.remove_suppliers``/``model.remove_servers``. Returns nothing.
    """


@hookspec
def ccframe_choose_export_mode(model: CoevolutionModel, year: int) -> None:
    """Let suppliers choose traditional export (TS) or CBEC export (ES).

    Called in every year ``t >= 1`` after entry and exit; writes
    ``model.suppliers["mode"]`` (0 = TS, 1 = ES) for active suppliers. Returns nothing.
    """


# --------------------------------------------------------------------------- operating phases (every year)


@hookspec
def ccframe_produce(model: CoevolutionModel, year: int) -> None:
    """Decide the year's output and market price (the seed's eqs. 1-3).

    Called every year, first of the operating phases. Writes each active supplier's
    ``output`` and ``model.market.price``. Returns nothing.
    """


@hookspec
def ccframe_quote_prices(model: CoevolutionModel, year: int) -> None:
    """Let servers quote the overseas (CIF) price (the seed's eqs. 4 and 8).

    Called every year after production, before matching; writes each active
    server's ``cif`` and ``variable_cost``. Returns nothing.
    """


@hookspec
def ccframe_match_supply_demand(model: CoevolutionModel, year: int) -> None:
    """Match suppliers' output with the demand servers see within their vision.

    Called every year after prices are quoted. Writes each supplier's ``partner`` and
    ``sold`` (O' <= O) and each server's ``demand``, ``supply`` and ``sold``.
    Returns nothing.
    """


@hookspec
def ccframe_settle_funds(model: CoevolutionModel, year: int) -> None:
    """Pay suppliers and servers for what was sold (the seed's eqs. 5-6).

    Called every year after matching. Writes ``revenue``, ``cost``, ``profit`` and
    ``funds`` of suppliers and servers. Returns nothing.
    """


# --------------------------------------------------------------------------- results


@hookspec
def ccframe_collect_metrics(model: CoevolutionModel, year: int) -> dict[str, float]:
    """Return this mechanism's model-level metrics for the year just operated.

    Called every year, last. Each implementation returns a ``{name: value}`` dict;
    all dicts are merged (a name reported twice is an error) into the year's row of
    the results. Values must be finite floats or NaN where undefined.
    """
