"""Prints a line every tenth of a second until a file named ``stop`` appears in its working
directory's parent (the test creates it), or 60 s pass: a run that is still running while the
browser watches its log."""

import os
import sys
import time

from azureml.core.run import Run

run = Run.get_context()
stop = sys.argv[1] if len(sys.argv) > 1 else None
deadline = time.monotonic() + 60
line = 0
while time.monotonic() < deadline and not (stop and os.path.exists(stop)):
    print(f"tick {line}", flush=True)
    run.log("tick", line, step=line)
    line += 1
    time.sleep(0.1)
print("stopping", flush=True)
