"""The limits every call into Azure gets, for both Azure backends: one rule, three sources.

Each value comes from the first of these that sets it:

1. an environment variable: ``AMLOCAL_AZURE_CONNECT_TIMEOUT`` and ``AMLOCAL_AZURE_READ_TIMEOUT``
   (seconds), ``AMLOCAL_AZURE_RETRIES`` (retries after a failed attempt); an empty one counts
   as unset;
2. config.json's optional ``"azure_timeouts": {"connect": s, "read": s, "retries": n,
   "cli_process": s, "interactive": s}``;
3. the defaults: 10 s, 60 s, 2 retries, 30 s for the ``az`` process, 300 s for a person to sign
   in in the browser.

Both sources are hostile input: an unknown key, a value that is not a number (a bool, a
string), NaN or infinity, seconds <= 0 or above a day, retries that are not a whole number >= 0
all raise ``ConfigError`` naming the key, the value and what to do, before any request.

How each backend applies them: SDK v2 (``amlocal_azureml_v2``) builds every azure-core client
with ``transport_kwargs()`` when the workspace is opened; SDK v1 (``amlocal_azureml.timeouts``)
holds every ``requests`` request to an Azure host to (connect, read), reading the variables at
each request over the workspace's config.json values. SDK v1 keeps its own retry count
(``retries`` is not something azureml-core lets a caller set) and has no ``az`` process or
browser wait to bound.
"""

import math
import os
from dataclasses import dataclass, fields, replace

from amlocal.exceptions import ConfigError
from amlocal.rules.errors import shown

CONFIG_KEY = "azure_timeouts"
CONNECT_TIMEOUT_VARIABLE = "AMLOCAL_AZURE_CONNECT_TIMEOUT"
READ_TIMEOUT_VARIABLE = "AMLOCAL_AZURE_READ_TIMEOUT"
RETRIES_VARIABLE = "AMLOCAL_AZURE_RETRIES"
#: the environment variable of each value that has one
VARIABLES = {"connect": CONNECT_TIMEOUT_VARIABLE, "read": READ_TIMEOUT_VARIABLE, "retries": RETRIES_VARIABLE}
#: a longer wait is no bound at all (and overflows some socket timeouts)
MAX_SECONDS = 24 * 3600
MAX_RETRIES = 100


@dataclass(frozen=True)
class Timeouts:
    """Seconds: connect, read; retries after a failed attempt; the ``az`` process; a person's
    browser sign-in. A silent network fails an SDK v2 call within about (retries + 1) *
    (connect + read) seconds plus azure-core's backoff (0.8 s doubling)."""
    connect: float = 10.0
    read: float = 60.0
    retries: int = 2
    cli_process: float = 30
    interactive: float = 300

    @classmethod
    def from_config(cls, config):
        """The defaults with config.json's ``"azure_timeouts"`` over them (validated)."""
        section = (config or {}).get(CONFIG_KEY)
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(
                f'config.json "{CONFIG_KEY}" is {shown(section)}; it must be an object such as '
                f'{{"connect": 10, "read": 60, "retries": 2}}. Fix it, or remove it to use the defaults.')
        known = [f.name for f in fields(cls)]
        values = {}
        for key, value in section.items():
            if key not in known:
                raise ConfigError(
                    f'config.json "{CONFIG_KEY}" has an unknown key {shown(key)} (value {shown(value)}); the keys '
                    f"are {', '.join(repr(k) for k in known)}. Rename or remove it.")
            values[key] = _checked(key, value, f'config.json "{CONFIG_KEY}": {{"{key}": {shown(value)}}}',
                                   "Fix it in config.json, or remove the key to use the default "
                                   f"({_amount(key, getattr(cls, key))}).")
        return cls(**values)

    def overridden_by(self, environ):
        """These limits with the environment variables (``VARIABLES``) set in ``environ`` over them."""
        values = {}
        for key, name in VARIABLES.items():
            text = environ.get(name)
            if not text:
                continue
            value = _parsed(key, text.strip())
            values[key] = _checked(key, value, f"{name}={text!r}",
                                   f"Unset it to use {_amount(key, getattr(self, key))}.")
        return replace(self, **values)

    @classmethod
    def in_force(cls, config=None, environ=None):
        """The limits a workspace with config.json ``config`` gets: the environment variables
        (of ``environ``, default ``os.environ``), over config.json, over the defaults."""
        return cls.from_config(config).overridden_by(os.environ if environ is None else environ)

    def transport_kwargs(self):
        """What azure-core's transport and retry policy read (RequestsTransport, RetryPolicy)."""
        return {"connection_timeout": self.connect, "read_timeout": self.read, "retry_total": self.retries}

    def as_tuple(self):
        """(connect, read, retries), as ``amlocal_azure.errors.unreachable`` quotes them."""
        return (self.connect, self.read, self.retries)


def _amount(key, value):
    if key != "retries":
        return f"{value:g} s"
    return f"{value:g} retry" if value == 1 else f"{value:g} retries"


def _parsed(key, text):
    try:
        return int(text) if key == "retries" else float(text)
    except ValueError:
        return text


def _checked(key, value, described, what_to_do):
    """``value`` when it is a valid ``key``; else ConfigError starting with ``described``."""
    if key == "retries":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_RETRIES:
            return value
        rule = f"a whole number of retries from 0 to {MAX_RETRIES}"
    else:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and 0 < value <= MAX_SECONDS:
            return value
        rule = f"a number of seconds above 0 and at most {MAX_SECONDS:,}"
    raise ConfigError(f"{described} is not {rule}. {what_to_do}")
