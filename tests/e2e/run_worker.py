"""`tieout worker` with the test-only sample tasks registered: `python -m tests.e2e.run_worker`."""

from __future__ import annotations

import sys

from app.cli import main
from app.jobs.tasks import registry
from tests.jobs import sample_tasks

if __name__ == "__main__":
    registry.tasks.update(sample_tasks.registry.tasks)
    sys.exit(main(["worker"]))
