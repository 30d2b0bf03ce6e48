import sys

from gridtool.cli import main

sys.exit(main())
