"""What ``wait_for_completion(show_output=True)`` prints, in Azure ML's layout: RunId, Web View,
a "Streaming <log>" section per log as it is written, then "Execution Summary"."""

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
        self.web_view = run._backend.portal_url(run.id)

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
            if self.current is not None:
                self.out.write("\n")
            self.current, self.offset = fresh[0], 0
            self.seen.add(self.current)
            self.out.write(_underlined(f"Streaming {self.current}"))

    def finish(self, details):
        self.poll(final=True)
        self.out.write("\n" + _underlined("Execution Summary"))
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n")
        error = details.get("error")
        if error:
            self.out.write(f"\nError:\n{error.get('message', '')}\n")
        self.out.write("\n")
        self.out.flush()
