"""Azure ML's naming rules: one validation for every user-given name.

Each name below becomes part of a path on the host (a workspace directory, a run
directory, a datastore directory, a model directory, ...), so a name is checked before it is
used anywhere. A rule is Azure ML's own (the SDK's check or the service's REST pattern); the
notes say where each comes from and where amlocal is stricter than the client SDK.

Common to all: the value must be a ``str``; a name is matched as a whole (``fullmatch``:
the SDK's ``re.match(... $)`` also accepts a trailing newline, the service does not); every
rule starts with a letter or digit and allows no '/', '\\' or NUL, so no valid name is '.',
'..', empty or a path.

==============  ===========================================  ====================================
kind            rule                                         source
==============  ===========================================  ====================================
workspace       ``^[a-zA-Z0-9][a-zA-Z0-9_-]{0,32}$``         REST ``workspaces`` name pattern (3+ there);
                                                             the SDK's ``_valid_workspace_name``
                                                             (``\\w`` there; ASCII at the service)
experiment      ``^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$``        SDK ``_valid_experiment_name`` (1-255
                                                             chars; ``\\w`` there, ASCII here as in
                                                             the REST ``jobs`` pattern)
compute_target  ``^[a-zA-Z][a-zA-Z0-9-]{0,22}[a-zA-Z0-9]$``  Azure ML compute names: a letter
                                                             first, letters, digits and '-', not
                                                             ending with '-'. AmlCompute allowed
                                                             2-16 characters, compute names now
                                                             3-24: amlocal accepts 2-24
datastore       ``^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$``        REST ``datastores`` name pattern
                                                             (SDK v1 docs: letters, digits, '_';
                                                             the service compares ignoring case)
model           ``^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$``       SDK ``model_name_validation``
environment     ``^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$``       REST ``environments`` pattern plus
                                                             '.', which curated SDK v1 names use
                                                             (``AzureML-sklearn-0.24-ubuntu18.04-
                                                             py37-cpu``)
run_id          ``^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$``       ids amlocal makes
                                                             (``<experiment>_<epoch>_<8 hex>``,
                                                             see ``new_run_id``) and Azure's own
                                                             (``HD_<uuid>_0``, ``OfflineRun_...``);
                                                             255 = the file system's NAME_MAX
==============  ===========================================  ====================================
"""

import os
import re
import time
from collections import namedtuple

from .errors import InvalidModelName, InvalidName, violation

NameRule = namedtuple("NameRule", "kind field pattern rule example error")
NameRule.__doc__ = """One naming rule: ``field`` is how a message names the value."""

_RULES = (
    # Azure asks 3 to 33 characters when it creates a workspace; a local one may be shorter
    NameRule("workspace", "workspace name", r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,32}",
             "a workspace name has at most 33 characters: letters, digits, '_' or '-', starting with a "
             "letter or digit", "iris-workspace", InvalidName),
    NameRule("experiment", "experiment name", r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}",
             "an experiment name has 1 to 255 characters: letters, digits, '_' or '-', starting with "
             "a letter or digit", "sklearn-iris", InvalidName),
    NameRule("compute_target", "compute target name", r"[a-zA-Z][a-zA-Z0-9-]{0,22}[a-zA-Z0-9]",
             "a compute target name has 2 to 24 characters: letters, digits or '-', starting with a "
             "letter and not ending with '-'", "cpu-cluster", InvalidName),
    NameRule("datastore", "datastore name", r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}",
             "a datastore name has 1 to 255 characters: letters, digits, '_' or '-', starting with a "
             "letter or digit", "workspaceblobstore", InvalidName),
    NameRule("model", "model name", r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}",
             # azureml's own words (WebserviceException "Error, provided model name is invalid. ...")
             "it must only consist of letters, numbers, dashes, periods, or underscores, start with a letter "
             "or number, and be between 1 and 255 characters long", "sklearn-iris", InvalidModelName),
    NameRule("environment", "environment name", r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}",
             "an environment name has 1 to 255 characters: letters, digits, '-', '.' or '_', "
             "starting with a letter or digit", "sklearn-env", InvalidName),
    NameRule("run_id", "run id", r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}",
             "a run id has 1 to 255 characters: letters, digits, '-', '.' or '_', starting with a "
             "letter or digit", "sklearn-iris_1700000000_0a1b2c3d", InvalidName),
)
RULES = {rule.kind: rule for rule in _RULES}
_COMPILED = {rule.kind: re.compile(rule.pattern) for rule in _RULES}

RUN_ID_MAX = 255


def validate_name(kind, value, field=None):
    """Return ``value`` (a plain ``str``) when it follows Azure ML's rule for ``kind``
    (a key of ``RULES``); else raise ``InvalidName`` (``InvalidModelName`` for models) saying
    which field, which value, the rule and a valid example. ``field`` overrides how the
    message names the value (e.g. ``"workspace_name"``)."""
    try:
        rule = RULES[kind]
    except KeyError:
        raise KeyError("no naming rule for {!r}; known: {}".format(kind, ", ".join(sorted(RULES))))
    label = field or rule.field
    if not isinstance(value, str):
        raise violation(rule.error, label, value,
                        "a name must be a str, not {}".format(type(value).__name__), rule.example)
    if not _COMPILED[kind].fullmatch(value):
        raise violation(rule.error, label, value, rule.rule, rule.example)
    return str.__str__(value)


def is_valid_name(kind, value):
    """True when ``validate_name(kind, value)`` would return; never raises for a known kind."""
    rule = _COMPILED[kind]
    return isinstance(value, str) and rule.fullmatch(value) is not None


def validate_workspace_name(value, field=None):
    return validate_name("workspace", value, field)


def validate_experiment_name(value, field=None):
    return validate_name("experiment", value, field)


def validate_compute_target_name(value, field=None):
    return validate_name("compute_target", value, field)


def validate_datastore_name(value, field=None):
    return validate_name("datastore", value, field)


def validate_model_name(value, field=None):
    return validate_name("model", value, field)


def validate_environment_name(value, field=None):
    return validate_name("environment", value, field)


def validate_run_id(value, field=None):
    return validate_name("run_id", value, field)


def new_run_id(experiment, now=None, token=None):
    """A run id the way Azure ML makes them, ``<experiment>_<epoch seconds>_<8 hex>``.

    The experiment part is shortened so the id stays within 255 characters (a directory
    name on the host cannot be longer). ``now`` and ``token`` (8 hex digits) are for tests.
    """
    experiment = validate_experiment_name(experiment)
    now = int(time.time() if now is None else now)
    token = os.urandom(4).hex() if token is None else token
    suffix = "_{}_{}".format(now, token)
    return validate_run_id(experiment[:RUN_ID_MAX - len(suffix)] + suffix)
