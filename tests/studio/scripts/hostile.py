"""Writes names and text that would run as script if a page put them in as HTML."""

import os

from azureml.core.run import Run

run = Run.get_context()
run.log("<img src=x onerror=alert(1)>", 1.0, step=0)
run.log("<img src=x onerror=alert(1)>", 2.0, step=1)
run.tag("<script>alert(2)</script>", "\"><svg onload=alert(3)>")
os.makedirs("outputs", exist_ok=True)
with open("outputs/<img src=x onerror=alert(6)>.html", "w") as handle:
    handle.write("<script>alert(4)</script>")
print("</pre><script>alert(5)</script>", flush=True)
