"""Calling a service's /score, as ``service.run`` does: a timeout on every call, a cap on what
is read back, and the server's own message in the error when it refuses or fails."""

import http.client
import json
from urllib.parse import urlsplit

from ...exceptions import WebserviceException

#: seconds a call may take: the server's scoring timeout (60 s) plus a margin
CALL_TIMEOUT_SECONDS = 90
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


def post_score(uri, input_data, timeout=CALL_TIMEOUT_SECONDS):
    """(status, body bytes) of POSTing ``input_data`` (str or bytes; anything else is sent as
    JSON) to ``uri``. Raises WebserviceException when the service cannot be reached."""
    if isinstance(input_data, str):
        body = input_data.encode("utf-8")
    elif isinstance(input_data, (bytes, bytearray)):
        body = bytes(input_data)
    else:
        body = json.dumps(input_data).encode("utf-8")
    parts = urlsplit(uri)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", parts.path or "/score", body=body,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read(MAX_RESPONSE_BYTES + 1)
        if len(data) > MAX_RESPONSE_BYTES:
            raise WebserviceException(f"Error: the service's answer is larger than {MAX_RESPONSE_BYTES} bytes; not "
                                      "reading it. Return less from run(), or call the scoring URI yourself.")
        return response.status, data
    except TimeoutError as err:
        raise WebserviceException(f"Error: the service did not answer within {timeout} s ({uri}).") from err
    except (OSError, http.client.HTTPException) as err:
        raise WebserviceException(f"Error: Connection with container for scoring has failed ({uri}: {err}).") from err
    finally:
        connection.close()


def server_message(data):
    """The inference server's error message ({"message": ...}) or the body's start."""
    text = data.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"]
    except ValueError:
        pass
    return text[:2000]
