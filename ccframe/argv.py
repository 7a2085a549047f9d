"""Reading ccframe's command line without importing Hydra, so it can be read before Hydra loads."""

from __future__ import annotations

#: ccframe's own subcommands, handled before Hydra (``python -m ccframe plugins``...).
SUBCOMMANDS = ("plugins", "sync", "check")

#: Hydra flags that take a value, so the value is not mistaken for an override.
VALUE_FLAGS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
               "--cfg", "-c", "--package", "-p", "--experimental-rerun", "--info", "-i"}

#: Flags after which Hydra only prints (help, config) or loads configs ccframe cannot see in advance.
NO_PREFLIGHT = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i", "--shell-completion", "-sc",
                "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun"}

#: Every flag Hydra's command line takes (its others are overrides: ``key=value``).
FLAGS = VALUE_FLAGS | NO_PREFLIGHT | {"--version", "--resolve", "--run", "-r", "--multirun", "-m"}

FALSE_WORDS = {"false", "no", "off", "0"}


def _words(args: list[str]) -> list[str]:
    """The arguments that are not the value of a flag taking one (``--info`` takes one only optionally)."""
    words, skip = [], False
    for arg in args:
        if not skip:
            words.append(arg)
        skip = not skip and arg in VALUE_FLAGS and arg not in ("--info", "-i")
    return words


def overrides_in(args: list[str]) -> list[str]:
    """The Hydra overrides among command-line arguments (not flags, not their values)."""
    return [arg for arg in _words(args) if not arg.startswith("-")]


def unknown_flag(args: list[str]) -> str | None:
    """The first argument that looks like a flag but is none of Hydra's (argparse would print its usage)."""
    return next((arg for arg in _words(args) if arg.startswith("-") and arg.split("=", 1)[0] not in FLAGS), None)


def multirun(args: list[str]) -> bool:
    """Whether the command line asks for a multirun (a sweep)."""
    return "-m" in args or "--multirun" in args


def single_tracked_simulation(args: list[str]) -> bool:
    """Whether the command line runs one simulation that MLflow will log, as far as it says.

    Decided from the words alone: a config file that turns tracking off is found out later.
    """
    if args[:1] and args[0] in SUBCOMMANDS or multirun(args) or NO_PREFLIGHT.intersection(args):
        return False
    values = typed_values(args)
    return (values.get("task", "simulate") == "simulate"
            and values.get("tracking.enabled", "true").strip().lower() not in FALSE_WORDS)


def parallel_workers(args: list[str]) -> int | None:
    """How many jobs a multirun runs at once, if its launcher is not Hydra's serial one (None if serial).

    None too for an ``n_jobs`` that is not a number, which Hydra refuses.
    """
    if not multirun(args):
        return None
    values = typed_values(args)
    if values.get("hydra/launcher", "basic") == "basic":
        return None
    import os

    cores = os.cpu_count() or 1
    try:
        workers = int(values.get("hydra.launcher.n_jobs", -1))
    except ValueError:
        return None  # Hydra refuses the value
    return workers if workers > 0 else max(1, cores + 1 + workers)  # joblib: -1 is all cores, -2 all but one


def typed_values(args: list[str]) -> dict[str, str]:
    """The overrides' keys and values as typed (``+`` dropped), the last one winning."""
    return dict(o.lstrip("+").split("=", 1) for o in overrides_in(args) if "=" in o)
