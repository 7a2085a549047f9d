"""``python -m ccframe`` and the ``ccframe`` script: the command line (:mod:`ccframe.cli`)."""

import gc
import sys


def main() -> None:
    """Start the MLflow worker and a parallel sweep's workers before Hydra loads; then run the command."""
    from ccframe import parallel, uploader

    uploader.start_early(sys.argv[1:])
    warm_up = parallel.prepare(sys.argv[1:])
    from ccframe.cli import main as cli_main

    try:
        cli_main()
    finally:
        if warm_up:  # a sweep refused before its launch: leave once its workers are up, not halfway
            warm_up.join()
        # The process ends here: spare its last garbage collections a walk over every object
        # of Hydra, Mesa, Polars and matplotlib (0.3 s, a tenth of a default run).
        gc.freeze()


if __name__ == "__main__":
    main()
