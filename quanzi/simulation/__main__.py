import sys

from quanzi.simulation.command import main

sys.exit(main())
