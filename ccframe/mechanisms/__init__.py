"""The seed's mechanisms, as built-in plugins registered like any third-party one."""

from __future__ import annotations

import math

import numpy as np


def safe_ratio(numerator: float, denominator: float) -> float:
    """Numerator / denominator, or NaN when the denominator is zero (an empty group)."""
    return float(numerator / denominator) if denominator else math.nan


def mean_or_nan(values: np.ndarray) -> float:
    """Mean of ``values``, NaN when there are none."""
    return float(values.mean()) if values.size else math.nan
