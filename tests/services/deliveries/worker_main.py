"""`ringtrail` with the test destination kind `fake_sink` registered: the SIGKILL test runs
the real worker through this (`python -m tests.services.deliveries.worker_main worker`)."""

from __future__ import annotations

import sys

from ringtrail.cli.main import main
from tests.services.deliveries import fake_sink

if __name__ == "__main__":
    fake_sink.register()
    sys.argv[0] = "ringtrail"
    main()
