"""Shared fixtures: composed settings and short runs."""

import logging

import pytest

from ccframe.runner import compose, settings_from

logging.getLogger("MESA").setLevel(logging.WARNING)


@pytest.fixture
def settings_for():
    """Validated settings for a list of overrides."""
    return lambda *overrides: settings_from(compose(list(overrides)))
