"""How ``run.get_metrics()`` shapes what a run logged (azureml-core's metrics v2, the default).

Every metric name holds a series of values in logging order; the first kind logged under a
name is the metric's kind, and values of another kind logged under the same name are ignored
(azureml warns "Conflicting metric types"). Shapes returned:

* ``scalar`` (``log``) and ``list`` (``log_list``, each element one value): the value when the
  series has one value, else the list (two ``log_list`` calls concatenate);
* ``row`` (``log_row``, one row) and ``table`` (``log_table``, one row per index of its
  columns): with one row a dict column -> value, else a dict column -> list of values;
* ``image`` and ``confusion_matrix`` are stored as run artifacts (an image under its upload
  name, a confusion matrix under the metric's name): the data location of the FIRST one logged (``aml://artifactId/ExperimentRun/dcid.<run id>/<artifact>``), or with
  ``populate`` the value itself.
"""

KINDS = ("scalar", "list", "row", "table", "image", "confusion_matrix")
ARTIFACT_KINDS = ("image", "confusion_matrix")


def artifact_location(run_id, artifact):
    return f"aml://artifactId/ExperimentRun/dcid.{run_id}/{artifact}"


def table_rows(columns):
    """A ``log_table`` value (column -> list, or a single value) as a list of row dicts."""
    lists = {key: value if isinstance(value, list) else [value] for key, value in columns.items()}
    height = max((len(value) for value in lists.values()), default=0)
    return [{key: value[i] if i < len(value) else None for key, value in lists.items()} for i in range(height)]


def series_values(kind, value):
    """The values one logging call adds to its metric's series."""
    if kind == "list":
        return list(value)
    if kind == "table":
        return table_rows(value)
    return [value]


def aggregate(rows, run_id="", populate=False):
    """{name: shaped value} from ``rows``: (name, kind, value) in logging order."""
    series = {}
    for name, kind, value in rows:
        entry = series.setdefault(name, (kind, []))
        if entry[0] == kind:
            entry[1].extend(series_values(kind, value))
    return {name: _shape(name, kind, values, run_id, populate) for name, (kind, values) in series.items() if values}


def _shape(name, kind, values, run_id, populate):
    if kind in ("row", "table"):
        if len(values) == 1:
            return dict(values[0])
        columns = {}
        for row in values:
            for column in row:
                columns.setdefault(column, [])
        for row in values:
            for column, cells in columns.items():
                cells.append(row.get(column))
        return columns
    if kind == "image":
        first = values[0]
        artifact = first.get("artifact") if isinstance(first, dict) else first
        return artifact if populate else artifact_location(run_id, artifact)
    if kind == "confusion_matrix":
        return values[0] if populate else artifact_location(run_id, name)
    return values[0] if len(values) == 1 else list(values)
