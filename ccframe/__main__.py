"""``python -m ccframe``: the command line."""

from ccframe.cli import main

main()
