"""The errors a running model raises; apart from :mod:`ccframe.model` so catching them does not import Mesa."""


class MechanismError(RuntimeError):
    """A mechanism failed; the message names the slot, implementation, plugin, hook and year."""


class ModelError(ArithmeticError):
    """The model reached a state its equations do not define (names year and quantity)."""
