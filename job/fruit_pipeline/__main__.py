import sys

from fruit_pipeline.cli import main

sys.exit(main())
