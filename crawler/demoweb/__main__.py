"""``python -m crawler.demoweb generate|serve|mutate ...``"""

import sys

from crawler.demoweb.cli import main

sys.exit(main())
