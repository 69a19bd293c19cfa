"""What ``wait_for_completion(show_output=True)`` prints, in Azure ML's layout: RunId, Web View,
a "Streaming <log>" section per log as it is written, then "Execution Summary" (and the error
as JSON when the run failed and the caller asked not to raise, as azureml does)."""

import json
import sys


def _underlined(title):
    return f"{title}\n{'=' * len(title)}\n"


class RunOutputFollower:
    def __init__(self, run, out=None):
        self.run = run
        self.out = out or sys.stdout
        self.current = None
        self.seen = set()
        self.offset = 0
        self.history = run._history
        self.web_view = run._backend.web_view_text(run.id)

    def start(self):
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n\n")
        self.out.flush()

    def poll(self, final=False):
        """Print what the current log gained; when the next log begins, print the rest of the
        current one and switch. Logs are streamed one after another, as Azure ML does."""
        while True:
            fresh = [name for name in self.history.streamed_log_names(self.run.id) if name not in self.seen]
            if self.current is not None:
                text, self.offset = self.history.read_log(self.run.id, self.current, self.offset,
                                                          final=final or bool(fresh))
                if text:
                    self.out.write(text)
                    self.out.flush()
            if not fresh:
                return
            self.current, self.offset = fresh[0], 0
            self.seen.add(self.current)
            self.out.write("\n" + _underlined(f"Streaming {self.current}") + "\n")

    def finish(self, details, raise_on_error=True):
        self.poll(final=True)
        self.out.write("\n" + _underlined("Execution Summary"))
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n")
        warnings = details.get("warnings") or []
        if warnings:
            self.out.write("\nWarnings:\n" + "".join(f"{w}\n" for w in warnings) + "\n")
        if details.get("status") == "Failed" and not raise_on_error:
            error = {k: v for k, v in (details.get("error") or {}).items() if k != "log_tail"} or \
                "Detailed error not set on the Run. Please check the logs for details."
            self.out.write("\nError:\n" + json.dumps(error, indent=4) + "\n")
        self.out.write("\n")
        self.out.flush()
