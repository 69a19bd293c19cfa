"""Tag and property filters, as azureml takes them.

``Model.list(tags=..., properties=...)``: azureml turns the filter into one query string for the
service (``azureml.core.model.Model.list``), and the service selects the models that match every
term of it. Each item is a key ("key") or a list whose first two strings are key and value
(["key", "value"]); azureml joins them as "key" or "key=value", separated by commas. So, as on
Azure: ``tags`` must be a ``list`` (the SDK checks); ``properties`` may be any iterable (the SDK does
not check: a dict filters by its keys); an item "key=value" written as one string filters by value;
a list item needs two strings (extra ones are ignored); anything else is refused. The service
reads the query back as comma-separated terms, each split at its first "=" (a value that itself
holds a comma cannot be matched, on Azure either).

``Experiment.get_runs(tags=..., properties=...)`` takes a key or a dict of key -> value. Both
select the records that carry every key (with that value when given).
"""

MODEL_TAGS_TYPE_MESSAGE = 'Expected tags must be list type. Ex. ["key", ["key2", "key2 value"]]: provided {0}'


def model_filter_query(label, wanted):
    """(the query string azureml sends for a ``Model.list`` filter or None, problem or None)."""
    if wanted is None:
        return None, None
    if label == "tags" and type(wanted) is not list:
        return None, MODEL_TAGS_TYPE_MESSAGE.format(type(wanted))
    if not wanted:  # azureml sends no filter for an empty one
        return None, None
    try:
        items = list(wanted)
    except TypeError:
        return None, f"{label} must be a list of \"key\" strings or [\"key\", \"value\"] lists: provided {type(wanted)}"
    terms = []
    for item in items:
        if type(item) is list:
            if len(item) < 2 or not all(isinstance(part, str) for part in item[:2]):
                return None, (f'Each {label} filter that is a list must start with two strings, ["key", "value"]: '
                              f"provided {item!r}")
            terms.append(item[0] + "=" + item[1])
        elif isinstance(item, str):
            terms.append(item)
        else:
            return None, f'Each {label} filter must be a "key" string or a ["key", "value"] list: provided {item!r}'
    return ",".join(terms), None


def model_filter_problem(label, wanted):
    """Why ``wanted`` is not a filter ``Model.list`` accepts, or None."""
    return model_filter_query(label, wanted)[1]


def model_filter_pairs(wanted, label="properties"):
    """[(key, value or None)] of a filter accepted by ``model_filter_problem``: the terms of the
    query azureml sends, each split at its first "=" as the service does."""
    query, problem = model_filter_query(label, wanted)
    if problem:
        raise ValueError(problem)
    pairs = []
    for term in (query or "").split(",") if query else []:
        key, separator, value = term.partition("=")
        pairs.append((key, value if separator else None))
    return pairs


def run_filter_problem(label, wanted):
    """Why ``wanted`` is not a filter ``Experiment.get_runs`` accepts, or None."""
    if wanted is None or isinstance(wanted, str):
        return None
    if isinstance(wanted, dict) and all(isinstance(k, str) for k in wanted):
        return None
    return f'{label} must be a "key" string or a dict of key -> value, got {type(wanted).__name__}'


def run_filter_pairs(wanted):
    if wanted is None:
        return []
    if isinstance(wanted, str):
        return [(wanted, None)]
    return [(key, None if value is None else str(value)) for key, value in wanted.items()]


def matches(values, pairs):
    """True when ``values`` (a str -> str dict) has every (key, value or None) of ``pairs``."""
    return all(key in values if value is None else values.get(key) == str(value) for key, value in pairs)
