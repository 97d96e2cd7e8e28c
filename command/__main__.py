"""``python -m command``: the same as the ``weather-warehouse`` console script."""

import sys

from command.main import main

sys.exit(main())
