import sys

from trainmode.cli import main

sys.exit(main())
