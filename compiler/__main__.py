import sys

from vnuma.cli import main

sys.exit(main())
