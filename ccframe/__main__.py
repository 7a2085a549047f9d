"""``python -m ccframe`` and the ``ccframe`` script: the command line (:mod:`ccframe.cli`)."""

import sys


def main() -> None:
    """Start the MLflow worker before Hydra loads, so both load at once; then run the command."""
    from ccframe.uploader import start_early

    start_early(sys.argv[1:])
    from ccframe.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
