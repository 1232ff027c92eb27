import sys

from memwatch.cli import main

sys.exit(main())
