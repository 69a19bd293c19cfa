"""Tag and property filters, as azureml takes them.

``Model.list(tags=..., properties=...)`` takes a list whose items are a key ("key") or a
[key, value] list; ``Experiment.get_runs(tags=..., properties=...)`` takes a key or a dict of
key -> value. Both select the records that carry every key (with that value when given).
"""


def model_filter_problem(label, wanted):
    """Why ``wanted`` is not a filter ``Model.list`` accepts (azureml's message), or None."""
    if wanted is None:
        return None
    if type(wanted) is not list:
        return (f'Expected {label} must be list type. Ex. ["key", ["key2", "key2 value"]]: '
                f'provided {type(wanted)}')
    for item in wanted:
        if isinstance(item, str):
            continue
        if type(item) is list and len(item) == 2 and all(isinstance(part, str) for part in item):
            continue
        return (f'Each {label} filter must be a "key" string or a ["key", "value"] list of two strings: '
                f"provided {item!r}")
    return None


def model_filter_pairs(wanted):
    """[(key, value or None)] of a filter accepted by ``model_filter_problem``."""
    return [(item[0], item[1]) if isinstance(item, list) else (item, None) for item in wanted or []]


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
