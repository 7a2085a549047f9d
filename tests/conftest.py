"""Shared fixtures: composed settings, short runs, the command line run in this process."""

import contextlib
import io
import logging
import sys

import pytest

from ccframe import cli
from ccframe.runner import compose, settings_from

logging.getLogger("MESA").setLevel(logging.WARNING)


@pytest.fixture
def settings_for():
    """Validated settings for a list of overrides."""
    return lambda *overrides: settings_from(compose(list(overrides)))


@pytest.fixture(scope="session")
def cli_entry():
    """``python -m ccframe ARGS`` run in this process: a function returning (exit status, stdout, stderr)."""
    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        argv = sys.argv
        sys.argv = ["ccframe", *args]
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    cli.main()
                    status = 0
                except SystemExit as exc:
                    status = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = argv
        return status, out.getvalue(), err.getvalue()

    return run
