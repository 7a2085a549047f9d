"""The plugin API: swapping a built-in, discovery through entry points, failures named."""

import inspect
import sys
import textwrap
import types
from dataclasses import dataclass

import numpy as np
import pytest

from ccframe import hookimpl, hookspecs
from ccframe.errors import MechanismError
from ccframe.mechanism import Mechanism
from ccframe.mechanisms.fund import CIFFund
from ccframe.modes import ES
from ccframe.params import ConfigError, fraction
from ccframe.plugins import CORE_SLOTS, PluginError, get_plugin_manager, mechanism_registry
from ccframe.runner import compose, settings_from
from ccframe.testing import small_run


class DomesticPriceFund(CIFFund):
    """A fund variant that pays CBEC suppliers the market price, as if there were no CIF premium."""

    name = "domestic_price"

    @hookimpl
    def ccframe_settle_funds(self, model, year):
        super().ccframe_settle_funds(model, year)
        sup = model.suppliers
        rows = sup.active_rows()
        es = rows[sup["mode"][rows] == ES]
        sup["funds"][es] -= sup["revenue"][es]
        sup["revenue"][es] = sup["sold"][es] * model.market.price
        sup["funds"][es] += sup["revenue"][es]
        sup["profit"][es] = sup["revenue"][es] - sup["cost"][es]


def plugin_module(*classes):
    """A throwaway plugin module registering ``classes``."""
    module = types.ModuleType("throwaway_plugin")

    @hookimpl
    def ccframe_register_mechanisms(register):
        for cls in classes:
            register(cls)

    module.ccframe_register_mechanisms = ccframe_register_mechanisms
    return module


def test_a_registered_plugin_replaces_a_builtin_mechanism_and_changes_the_result(ccframe_plugin):
    builtin = small_run()
    ccframe_plugin(plugin_module(DomesticPriceFund))
    swapped = small_run(["fund.impl=domestic_price"])
    assert swapped.settings.mechanisms["fund"].info.plugin == "throwaway_plugin"
    assert swapped.means("revenue_es") != builtin.means("revenue_es")
    assert swapped.means("revenue_ts")[0] == builtin.means("revenue_ts")[0]


def test_unknown_implementation_lists_the_available_ones(ccframe_plugin):
    ccframe_plugin(plugin_module(DomesticPriceFund))
    with pytest.raises(ConfigError, match=r"fund\.impl: no such mechanism 'x'; available: cif, domestic_price"):
        settings_from(compose(["fund.impl=x"]))


@dataclass(frozen=True)
class RateParams:
    rate: float = fraction("a share")


class Fragile(Mechanism):
    slot, name, Params = "fragile", "boom", RateParams

    @hookimpl
    def ccframe_produce(self, model, year):
        if year == 2:
            raise ValueError("cannot produce")

    @hookimpl
    def ccframe_collect_metrics(self, model, year):
        return {"fragile_rate": self.params.rate}


def test_a_plugin_can_add_a_new_mechanism_slot_with_its_own_metrics(ccframe_plugin):
    ccframe_plugin(plugin_module(Fragile))
    result = small_run(["years=1", "+fragile.impl=boom", "+fragile.rate=0.25"])
    assert result.means("fragile_rate") == [0.25, 0.25]


def test_a_plugins_metrics_are_marked_as_its_own_for_the_console_summary(ccframe_plugin):
    ccframe_plugin(plugin_module(Fragile))
    result = small_run(["years=1", "+fragile.impl=boom", "+fragile.rate=0.25"])
    assert result.metric_sources["fragile_rate"] == "fragile=boom"
    assert result.plugin_metrics() == ["fragile_rate"]
    assert "fragile_rate" in result.table([*result.settings.scenario.metrics, *result.plugin_metrics()]).columns


def test_parameters_of_an_inactive_plugin_slot_say_how_to_activate_it(ccframe_plugin):
    ccframe_plugin(plugin_module(Fragile))
    with pytest.raises(ConfigError, match=r"^fragile: mechanism slot not active, .* first with "
                                          r"\+fragile\.impl=<boom> and every parameter"):
        settings_from(compose(["+fragile.rate=0.25"]))


@pytest.mark.parametrize("run", [small_run, lambda overrides: print_plugins_or_raise(overrides)],
                         ids=["small_run", "plugins"])
def test_the_python_api_words_a_config_error_in_one_line_as_the_cli_does(ccframe_plugin, run):
    ccframe_plugin(plugin_module(Fragile))
    with pytest.raises(ConfigError, match=r"^fragile\.rate: mechanism slot 'fragile' is not active, .*"
                                          r"activate it with \+fragile\.impl=<boom>$"):
        run(["fragile.rate=0.25"])
    with pytest.raises(ConfigError, match=r"^yeras: unknown key .*to add a new key use \+yeras=\.\.\.$"):
        run(["yeras=3"])


def print_plugins_or_raise(overrides):
    """``python -m ccframe plugins OVERRIDES``'s error line as a ConfigError (it prints it and returns 2)."""
    import contextlib
    import io

    from ccframe.plugin_listing import print_plugins

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = print_plugins(overrides)
    lines = err.getvalue().splitlines()
    if status:
        assert status == 2 and len(lines) == 1 and lines[0].startswith("ccframe: error: "), lines
        raise ConfigError(lines[0].removeprefix("ccframe: error: "))


def test_a_plugin_that_is_not_installed_is_named_by_the_python_api_beside_its_parameters():
    with pytest.raises(ConfigError, match=r"not_installed") as error:
        small_run(["+mechanism=not_installed", "not_installed.rate=0.5"])
    assert "\n" not in str(error.value) and "unknown key" not in str(error.value)


class Unmarked(CIFFund):
    name = "unmarked"

    def ccframe_settle_funds(self, model, year):  # overrides the parent's hookimpl without the marker
        super().ccframe_settle_funds(model, year)


def test_a_hook_method_without_hookimpl_is_rejected_before_the_run(ccframe_plugin):
    ccframe_plugin(plugin_module(Unmarked))
    with pytest.raises(PluginError, match=r"fund=unmarked .*ccframe_settle_funds is not marked @hookimpl"):
        settings_from(compose(["fund.impl=unmarked"]))


class Reporter(Mechanism):
    slot, name = "reporter", "any"
    value = 1.0

    @hookimpl
    def ccframe_collect_metrics(self, model, year):
        return {"reported": self.value}


@pytest.mark.parametrize(("value", "problem"), [("high", "is 'high', not a number"),
                                                (float("inf"), "is inf; metrics must be finite")])
def test_a_metric_that_is_not_a_finite_number_is_the_mechanisms_error(ccframe_plugin, value, problem):
    ccframe_plugin(plugin_module(type("Bad", (Reporter,), {"value": value})))
    with pytest.raises(MechanismError, match=rf"^mechanism reporter=any: metric 'reported' in year 0 {problem}"):
        small_run(["+reporter.impl=any"])


def test_a_metric_reported_twice_names_both_mechanisms(ccframe_plugin):
    clash = type("Clash", (Reporter,), {"slot": "clash", "name": "again"})
    ccframe_plugin(plugin_module(Reporter, clash))
    with pytest.raises(MechanismError, match=r"metric 'reported' reported by both reporter=any and clash=again"):
        small_run(["+reporter.impl=any", "+clash.impl=again"])


def test_a_check_that_crashes_is_named_as_the_plugins_error(ccframe_plugin):
    def check(cls, params, settings, slot):
        return settings.no_such_setting

    ccframe_plugin(plugin_module(type("Crashing", (Reporter,), {"check": classmethod(check)})))
    with pytest.raises(PluginError, match=r"^mechanism reporter=any from plugin 'throwaway_plugin' .* failed in "
                                          r"check\(\): AttributeError"):
        settings_from(compose(["+reporter.impl=any"]))


@pytest.mark.parametrize("name", ["inf", "null", "two words"])
def test_a_name_config_cannot_select_is_refused_at_registration(ccframe_plugin, name):
    ccframe_plugin(plugin_module(type("Odd", (Reporter,), {"name": name})))
    with pytest.raises(PluginError, match=rf"registers Odd with name '{name}': it must be a Python identifier"):
        mechanism_registry()


def test_a_failing_plugin_is_named_with_its_hook_and_year(ccframe_plugin):
    ccframe_plugin(plugin_module(Fragile))
    with pytest.raises(MechanismError, match=r"mechanism fragile=boom from plugin throwaway_plugin "
                                             r".*failed in ccframe_produce in year 2: ValueError: cannot produce"):
        small_run(["+fragile.impl=boom", "+fragile.rate=0.25"])


def test_a_slot_only_a_missing_plugin_provides_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"^fragile: no such mechanism slot; available slots: commodity"):
        settings_from(compose(["+fragile.impl=boom"]))


class WrongSignature(Mechanism):
    slot, name = "fund", "wrong"

    @hookimpl
    def ccframe_produce(self, model, year, weather):
        pass


def test_a_hookimpl_with_a_wrong_signature_is_rejected_before_the_run(ccframe_plugin):
    ccframe_plugin(plugin_module(WrongSignature))
    with pytest.raises(PluginError, match=r"mechanism fund=wrong from plugin 'throwaway_plugin'.*weather"):
        settings_from(compose(["fund=cif", "fund.impl=wrong", "~fund.revenue_share", "~fund.ts_iexp",
                               "~fund.settlement_days", "~fund.discount_rate", "~fund.server_fixed_cost"]))


DEMO_PLUGIN = '''
    from ccframe import hookimpl
    from ccframe.mechanisms.fund import CIFFund

    class DemoFund(CIFFund):
        name = "demo"

    @hookimpl
    def ccframe_register_mechanisms(register):
        register(DemoFund)
'''


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Install module ``demo_plugin`` (given source) as 'demo-plugin' 0.1 with a ``ccframe`` entry point."""
    def install(source: str) -> None:
        (tmp_path / "demo_plugin.py").write_text(textwrap.dedent(source))
        info = tmp_path / "demo_plugin-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[ccframe]\ndemo = demo_plugin\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        get_plugin_manager.cache_clear()

    yield install
    get_plugin_manager.cache_clear()
    sys.modules.pop("demo_plugin", None)


def test_a_plugin_is_found_through_its_entry_point(install_plugin):
    install_plugin(DEMO_PLUGIN)
    info = mechanism_registry()["fund"]["demo"]
    assert (info.plugin, info.distribution, info.version) == ("demo", "demo-plugin", "0.1")
    assert settings_from(compose(["fund.impl=demo"])).mechanisms["fund"].info.cls.__name__ == "DemoFund"


@pytest.mark.parametrize(("source", "problem"), [
    (DEMO_PLUGIN.replace("ccframe_register_mechanisms", "ccframe_register_mechanism"),
     "unknown hook 'ccframe_register_mechanism'"),
    (DEMO_PLUGIN.replace("(register)", "(register, extra)"), "extra"),
    ("import not_a_module_anywhere", "No module named 'not_a_module_anywhere'"),
    (DEMO_PLUGIN + "\n    def ccframe_config_searchpath():\n        return []\n",
     "ccframe_config_searchpath is not marked @hookimpl"),
])
def test_a_broken_installed_plugin_is_named_with_its_package(install_plugin, source, problem):
    install_plugin(source)
    with pytest.raises(PluginError, match=r"^installed plugin 'demo' \(demo-plugin 0\.1\)") as error:
        get_plugin_manager()
    assert problem in str(error.value) and "pip uninstall demo-plugin" in str(error.value)
    assert "\n" not in str(error.value)


def test_every_hook_is_documented_and_prefixed():
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("ccframe_")]
    assert len(specs) == 12
    for spec in specs:
        assert spec.__doc__ and "Called" in spec.__doc__, spec.__name__


def test_builtin_mechanisms_fill_every_core_slot_through_the_plugin_manager():
    registry = mechanism_registry()
    for slot, name in [("commodity", "cournot"), ("fund", "cif"), ("information", "vision"),
                       ("technology", "learning"), ("export_choice", "logit"), ("lifecycle", "profit")]:
        assert registry[slot][name].plugin == f"ccframe.mechanisms.{slot}"


def test_determinism_does_not_depend_on_an_unused_plugin(ccframe_plugin):
    before = small_run(["seed=3"]).summary
    ccframe_plugin(plugin_module(Fragile))
    assert np.array_equal(small_run(["seed=3"]).summary["mean"].to_numpy(),
                          before["mean"].to_numpy(), equal_nan=True)


def test_the_plugin_guide_reference_is_generated_from_the_hookspecs():
    from pathlib import Path

    from ccframe.hookdoc import BEGIN, END, hook_reference

    guide = (Path(__file__).parents[1] / "docs" / "PLUGINS.md").read_text()
    section = guide.split(BEGIN, 1)[1].split(END, 1)[0]
    assert section.strip() == hook_reference().strip(), "run: python -m ccframe.hookdoc docs/PLUGINS.md"


def test_a_failing_plugin_fails_its_own_job_and_the_sweep_goes_on(tmp_path):
    import os
    import subprocess

    from mlflow import MlflowClient

    (tmp_path / "fragile_plugin.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from ccframe import hookimpl
        from ccframe.mechanism import Mechanism
        from ccframe.params import fraction

        @dataclass(frozen=True)
        class Params:
            rate: float = fraction("a share")

        class Fragile(Mechanism):
            slot, name, Params = "fragile", "boom", Params

            @hookimpl
            def ccframe_produce(self, model, year):
                if year == 2:
                    raise ValueError("cannot produce")

        @hookimpl
        def ccframe_register_mechanisms(register):
            register(Fragile)
    '''))
    info = tmp_path / "fragile_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fragile-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ccframe]\nfragile = fragile_plugin\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    env["PYTHONPATH"] = str(tmp_path)
    run = subprocess.run([sys.executable, "-m", "ccframe", "-m", "+fragile.impl=boom", "+fragile.rate=0.1",
                          "years=3,1", "replicates=2"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 1, run.stderr  # the sweep ran every job, and says one failed
    assert "mechanism fragile=boom from plugin fragile (fragile-plugin 0.1) failed in ccframe_produce" in run.stderr
    assert "ccframe: error: 1 of 2 jobs failed" in run.stderr and "  job 0: mechanism fragile=boom" in run.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("standard").experiment_id])
    children = {r.data.params["years"]: r for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert {years: r.info.status for years, r in children.items()} == {"3": "FAILED", "1": "FINISHED"}
    failed = children["3"]
    assert "failed in ccframe_produce in year 2" in failed.data.tags["ccframe.error"]


def test_the_guide_names_the_builtin_classes_a_replacement_subclasses():
    import importlib
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "PLUGINS.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| `(\w+)` \|$", guide, flags=re.MULTILINE)
    assert sorted(slot for slot, _, _ in rows) == sorted(CORE_SLOTS)
    for slot, cls, params in rows:
        module = importlib.import_module(f"ccframe.mechanisms.{slot}")
        assert getattr(module, cls).Params is getattr(module, params)
        assert getattr(module, cls).slot == slot


def test_the_plugins_listing_reports_a_broken_implementation(ccframe_plugin, capsys):
    from ccframe.plugin_listing import print_plugins

    ccframe_plugin(plugin_module(WrongSignature))
    assert print_plugins([]) == 0
    out = capsys.readouterr().out
    assert "broken: mechanism fund=wrong from plugin 'throwaway_plugin'" in out and "weather" in out
