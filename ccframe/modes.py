"""The two export modes, as the suppliers' ``mode`` and servers' ``kind`` columns hold them.

Apart from :mod:`ccframe.agents` so mechanisms use them without importing Mesa: a sweep's
parent process checks every job's mechanisms but runs none.
"""

TS, ES = 0, 1
MODES = ("TS", "ES")  # the names, indexed by mode
