"""Nothing in a config or data file is evaluated as code: such strings are data, or refused in one line."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from ccframe.params import ConfigError
from ccframe.preflight import check

PYTHON = "__import__('os').system('touch pwned')"
#: OmegaConf's own resolvers, Hydra's three and the Ray launcher plugin's package version (installed with the
#: test extras); none runs code from its argument, and ccframe registers none.
SAFE_RESOLVERS = {"oc.env", "oc.create", "oc.deprecated", "oc.decode", "oc.select", "oc.dict.keys",
                  "oc.dict.values", "hydra", "now", "python_version", "ray_pkg_version"}


def ccframe(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    return subprocess.run([sys.executable, "-m", "ccframe", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_an_env_interpolation_is_data_in_a_string_key_and_refused_in_a_number():
    (settings,) = check(["tracking.experiment=${oc.env:HOME}"])
    assert settings.tracking.experiment == os.environ["HOME"]  # OmegaConf's safe resolver, read as text
    with pytest.raises(ConfigError, match=r"^ctrans: expected a number, got '" + re.escape(os.environ["HOME"])):
        check(["ctrans=${oc.env:HOME}"])


def test_a_python_expression_is_a_string_or_refused(tmp_path):
    (settings,) = check([f"scenario.description=\"{PYTHON}\""])
    assert settings.scenario.description == PYTHON
    for override in (f"ctrans=\"{PYTHON}\"", "alpha=1+1", "ctrans='lambda: 1'"):
        with pytest.raises(ConfigError, match=r"^(ctrans|alpha): expected a number, got ['\"]"):
            check([override])
    run = ccframe(f"scenario.description=\"{PYTHON}\"", "years=1", "replicates=1", "tracking.enabled=false",
                  cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert PYTHON in run.stderr  # shown as the scenario's description, never run
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("resolver", ["eval", "python", "exec", "import"])
def test_an_unknown_resolver_is_refused_in_one_line(resolver):
    with pytest.raises(ConfigError, match=rf"^ctrans: Unsupported interpolation type {resolver}$"):
        check([f"ctrans=${{{resolver}:1+1}}"])


def test_only_omegaconf_and_hydra_resolvers_are_registered():
    from omegaconf.basecontainer import BaseContainer

    check(["ctrans=3000"])  # after ccframe and Hydra have set themselves up
    assert set(BaseContainer._resolvers) <= SAFE_RESOLVERS


@pytest.mark.parametrize("overrides", [
    ["+hydra.callbacks.evil._target_=pathlib.Path.mkdir", "+hydra.callbacks.evil.self=pwned"],
    ["+hydra.callbacks.evil={_target_:pathlib.Path.mkdir,self:pwned}"],
    ["hydra.launcher._target_=pathlib.Path.mkdir"],
])
def test_a_target_override_that_would_make_hydra_call_code_is_refused(tmp_path, overrides):
    run = ccframe(*overrides, "years=1", "replicates=1", "tracking.enabled=false", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("ccframe: error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "refused" in run.stderr
    assert not (tmp_path / "pwned").exists()


def test_a_python_tag_in_a_yaml_file_is_refused_not_run(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"ctrans: !!python/object/apply:os.system ['touch {tmp_path / 'pwned'}']\n")
    with pytest.raises(Exception, match="python/object/apply"):
        OmegaConf.load(evil)  # the loader Hydra uses for every config file
    assert not (tmp_path / "pwned").exists()


def test_no_code_evaluates_strings_or_loads_unsafe_formats():
    source = Path(__file__).parents[1] / "ccframe"
    forbidden = re.compile(r"\b(eval|exec)\(|yaml\.(unsafe_)?load\(|pickle\.loads?\(|register_new_resolver|"
                           r"(?<![.\w])(?<!def )instantiate\(|utils\.instantiate|Loader=yaml\.(Full|Unsafe)?Loader")
    hits = [f"{path.relative_to(source.parent)}:{n}: {line.strip()}" for path in sorted(source.rglob("*.py"))
            for n, line in enumerate(path.read_text().splitlines(), 1) if forbidden.search(line)]
    assert hits == []
