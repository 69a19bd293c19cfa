"""``RunDetails`` (``azureml.widgets``): a run's status and metrics at a glance, as the sample
notebooks show them.

In a Jupyter notebook ``RunDetails(run).show()`` displays a table that updates itself until
the run ends (a HyperDrive sweep: one row per child, with its parameters and primary metric);
anywhere else it prints the same table once, as text. Nothing here needs ipywidgets: the live
table is an HTML display updated in place (IPython's display handles).
"""

import html
import json
import threading
import time

from .rules import statuses

REFRESH_SECONDS = 2.0


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class RunDetails:
    """A view of ``run_instance`` (a Run or a HyperDriveRun)."""

    def __init__(self, run_instance):
        self.run = run_instance

    # -- what is shown --------------------------------------------------------------------------
    def rows(self):
        """(headers, rows): one row for a run, one per child for a sweep."""
        if self.run.type == "hyperdrive":
            config = self.run.hyperdrive_config
            metric = config.primary_metric_name
            parameters = self.run.get_hyperparameters()
            names = sorted({name for text in parameters.values() for name in json.loads(text)})
            rows = []
            for child in sorted(self.run.get_children(), key=lambda c: _index(c.id)):
                values = json.loads(parameters.get(child.id) or "{}")
                best = child.get_metrics(metric).get(metric)
                if isinstance(best, list):
                    best = (max if config.primary_metric_goal.name == "MAXIMIZE" else min)(best) if best else None
                rows.append([child.id, child.get_status(), *[values.get(n, "") for n in names],
                             "" if best is None else best])
            return ["Run", "Status", *names, metric], rows
        metrics = self.run.get_metrics()
        return ["Run", "Status", *metrics], [[self.run.id, self.run.get_status(),
                                              *[_short(v) for v in metrics.values()]]]

    def text(self):
        headers, rows = self.rows()
        table = [list(map(str, headers))] + [[_short(cell) for cell in row] for row in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
        return f"{self.run.id}: {self.run.get_status()}\n" + "\n".join(lines)

    def html(self):
        headers, rows = self.rows()
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_short(cell))}</td>" for cell in row) + "</tr>"
                       for row in rows)
        status = html.escape(self.run.get_status())
        return (f"<div><b>{html.escape(self.run.id)}</b>: {status}<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table></div>")

    # -- showing it -------------------------------------------------------------------------------
    def show(self):
        """In a notebook: a table updated until the run ends (returns at once). Elsewhere: the
        table printed once."""
        if not _in_notebook():
            print(self.text())
            return
        from IPython.display import HTML, display

        handle = display(HTML(self.html()), display_id=True)
        threading.Thread(target=self._follow, args=(handle, HTML), daemon=True).start()

    def _follow(self, handle, html_class):
        while self.run.get_status() not in statuses.TERMINAL:
            time.sleep(REFRESH_SECONDS)
            handle.update(html_class(self.html()))
        handle.update(html_class(self.html()))

    def get_widget_data(self, widget_settings=None):
        """The table as plain data (azureml's widget data, simplified)."""
        headers, rows = self.rows()
        return {"run_id": self.run.id, "status": self.run.get_status(), "headers": headers, "rows": rows}


def _index(run_id):
    tail = run_id.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _short(value, width=40):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."
