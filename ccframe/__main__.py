"""``python -m ccframe`` and the ``ccframe`` script: the command line (:mod:`ccframe.cli`)."""

import sys


def main() -> None:
    """Start the MLflow worker and a parallel sweep's workers before Hydra loads; then run the command."""
    from ccframe import parallel, uploader

    uploader.start_early(sys.argv[1:])
    parallel.prepare(sys.argv[1:])
    from ccframe.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
