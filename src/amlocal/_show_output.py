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
        self.offset = 0
        self.history = run._history
        self.web_view = run._backend.portal_url(run.id)

    def start(self):
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n\n")
        self.out.flush()

    def poll(self):
        """Print what the current log gained; move on to the next log once it has begun,
        as Azure ML does (logs are streamed one after another, never interleaved)."""
        names = self.history.log_names(self.run.id)
        while self.current is not None or names:
            if self.current is None:
                self.current = names[0]
                self.out.write(_underlined(f"Streaming {self.current}"))
            text, self.offset = self.history.read_log(self.run.id, self.current, self.offset)
            if text:
                self.out.write(text)
                self.out.flush()
            later = names[names.index(self.current) + 1:] if self.current in names else []
            if not later:
                return
            nxt = later[0]
            if not self.history.read_log(self.run.id, nxt, 0)[0]:
                return
            self.out.write("\n")
            self.current, self.offset = nxt, 0
            self.out.write(_underlined(f"Streaming {self.current}"))

    def finish(self, details):
        self.poll()
        self.out.write("\n" + _underlined("Execution Summary"))
        self.out.write(f"RunId: {self.run.id}\nWeb View: {self.web_view}\n")
        error = details.get("error")
        if error:
            self.out.write(f"\nError:\n{error.get('message', '')}\n")
        self.out.write("\n")
        self.out.flush()
