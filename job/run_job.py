"""Entry file for spark-submit / spark-operator (`mainApplicationFile`): the `fruit-pipeline` CLI."""

import sys

from fruit_pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
