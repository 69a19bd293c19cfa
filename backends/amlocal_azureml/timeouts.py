"""A connect and a read timeout on every HTTP request the Azure ML SDK makes.

azureml-core talks to Azure through ``requests`` in several ways: msal (sign-in) with
``timeout=None``, compute and workspace calls through a bare session with no timeout, msrest
clients with 100 s, azure-core (storage) with 300 s. On a network that accepts connections and
never answers (a stuck proxy, a firewall that drops replies) the ``None`` ones wait forever.

``install()`` wraps ``requests.adapters.HTTPAdapter.send`` once per process: a request to an
Azure host (``AZURE_HOST_SUFFIXES``: Azure's public and sovereign clouds) sent without a timeout
gets (connect, read) = ``limits()``, and a longer one is shortened to them. Requests to any
other host are left as they are, so other code in the process (a Docker client's long waits,
say) is not affected. The read timeout bounds each wait for bytes, not a whole transfer, so long
uploads and downloads that keep moving are unaffected. The SDK retries a failed request a few
times (three retries with back-off for workspace and compute calls), so a silent network fails a
call after about 4 x (connect or read timeout) + 10 s; ``errors`` turns that into
``AzureTimeoutError``.

The values follow the one rule both Azure backends share (``amlocal_azure.timeouts``): the
environment variables over config.json's ``"azure_timeouts"`` over the defaults. The hook is
one per process, so it holds the config.json values of the workspace opened last
(``configure``, which ``SdkAzureAdapter.for_workspace`` calls); the variables are read at each
request, so changing them takes effect at once.
"""

import os
from urllib.parse import urlsplit

from amlocal_azure.timeouts import CONNECT_TIMEOUT_VARIABLE, READ_TIMEOUT_VARIABLE, Timeouts

__all__ = ["CONNECT_TIMEOUT_VARIABLE", "READ_TIMEOUT_VARIABLE", "DEFAULT_CONNECT_TIMEOUT", "DEFAULT_READ_TIMEOUT",
           "AZURE_HOST_SUFFIXES", "Timeouts", "is_azure_url", "configure", "in_force", "limits", "bounded", "install"]

DEFAULT_CONNECT_TIMEOUT = Timeouts().connect
DEFAULT_READ_TIMEOUT = Timeouts().read
#: hosts of Azure ML, Azure Resource Manager, Azure AD and Azure Storage in every Azure cloud
AZURE_HOST_SUFFIXES = (".azure.com", ".azure.net", ".azureml.ms", ".windows.net", ".microsoftonline.com",
                       ".microsoft.com", ".azure.us", ".usgovcloudapi.net", ".microsoftonline.us", ".azure.cn",
                       ".chinacloudapi.cn", ".partner.microsoftonline.cn")


def is_azure_url(url):
    host = (urlsplit(str(url)).hostname or "").lower()
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in AZURE_HOST_SUFFIXES)


#: the config.json limits of the workspace opened last (the defaults until one is)
_configured = Timeouts()


def configure(timeouts):
    """Hold requests to ``timeouts`` (a workspace's config.json limits, ``Timeouts.from_config``)
    wherever no environment variable overrides them."""
    global _configured
    _configured = timeouts


def in_force(environ=None):
    """The Timeouts a request into Azure gets now: the variables of ``environ`` (default
    ``os.environ``) over the configured limits. Raises ConfigError for a bad variable."""
    return _configured.overridden_by(os.environ if environ is None else environ)


def limits(environ=None):
    """(connect, read) seconds every request into Azure is held to."""
    timeouts = in_force(environ)
    return timeouts.connect, timeouts.read


def bounded(timeout, connect_limit, read_limit):
    """``requests``' timeout argument held to the limits (None, a number or a (connect, read) pair)."""
    if isinstance(timeout, tuple):
        connect, read = timeout
    elif timeout is None or isinstance(timeout, (int, float)):
        connect = read = timeout
    else:  # a urllib3 Timeout object: its caller chose it with care
        return timeout
    return (connect_limit if connect is None else min(connect, connect_limit),
            read_limit if read is None else min(read, read_limit))


def install(configured=None):
    """Hold every ``requests`` request of this process to ``limits()`` (idempotent); with
    ``configured``, ``configure(configured)`` first."""
    from requests.adapters import HTTPAdapter

    if configured is not None:
        configure(configured)
    if getattr(HTTPAdapter.send, "_amlocal_bounded", False):
        return
    unbounded_send = HTTPAdapter.send

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if is_azure_url(request.url):
            timeout = bounded(timeout, *limits())
        return unbounded_send(self, request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                              proxies=proxies)

    send._amlocal_bounded = True
    send.__wrapped__ = unbounded_send
    HTTPAdapter.send = send
