"""The base class of every mechanism implementation, built-in or third-party."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ccframe.settings import Settings


@dataclass(frozen=True)
class NoParams:
    """Parameters of a mechanism that has none."""


class Mechanism:
    """One implementation of a mechanism slot, instantiated once per model.

    Subclasses set ``slot`` (which slot they fill), ``name`` (what ``<slot>.impl``
    selects), ``Params`` (a dataclass of their parameters, declared with
    :mod:`ccframe.params` helpers so they are validated), and implement phase hooks
    from :mod:`ccframe.hookspecs` as ``@hookimpl`` methods.
    """

    slot: ClassVar[str]
    name: ClassVar[str]
    Params: ClassVar[type] = NoParams

    def __init__(self, params: object) -> None:
        self.params = params

    @classmethod
    def check(cls, params: object, settings: Settings, slot: str) -> None:
        """Check rules that tie these parameters to the rest of the settings.

        Raise :class:`ccframe.params.ConfigError` with a one-line message naming
        ``slot``'s key; the default checks nothing.
        """

    def __repr__(self) -> str:
        return f"<{self.slot}={self.name} {self.params!r}>"
