"""What ``wait_for_completion(show_output=True)`` prints, in Azure ML's layout: RunId, Web View,
a "Streaming <log>" section per log as it is written, then "Execution Summary" (and the error
as JSON when the run failed and the caller asked not to raise, as azureml does)."""

import json
import sys


#: how much of a log one read takes: a reader of a 1 GB log holds a megabyte at a time
LOG_CHUNK_BYTES = 1 << 20


def copy_log(history, run_id, name, offset, out, final=False):
    """Write log ``name`` from byte ``offset`` to ``out`` a chunk at a time; the new offset."""
    while True:
        text, after = history.read_log(run_id, name, offset, final=final, max_bytes=LOG_CHUNK_BYTES)
        if text:
            out.write(text)
            out.flush()
        if after == offset:
            return offset
        offset = after


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
                self.offset = copy_log(self.history, self.run.id, self.current, self.offset, self.out,
                                       final=final or bool(fresh))
            if not fresh:
                return
            self.current, self.offset = fresh[0], 0
            self.seen.add(self.current)
            self.out.write("\n" + _underlined(f"Streaming {self.current}") + "\n")

    def finish(self, details, raise_on_error=True):
        self.poll(final=True)
        self.out.write("\n" + _underlined("Execution Summary"))
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n")
        # as azureml prints them: the message of each warning that has one
        messages = [w.get("message") for w in details.get("warnings") or [] if isinstance(w, dict) and w.get("message")]
        if messages:
            self.out.write("\nWarnings:\n" + "".join(f"{m}\n" for m in messages) + "\n")
        if details.get("status") == "Failed" and not raise_on_error:
            error = {k: v for k, v in (details.get("error") or {}).items() if k != "log_tail"} or \
                "Detailed error not set on the Run. Please check the logs for details."
            self.out.write("\nError:\n" + json.dumps(error, indent=4) + "\n")
        self.out.write("\n")
        self.out.flush()
