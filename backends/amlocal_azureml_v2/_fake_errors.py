"""The errors FakeV2Adapter raises: azure-core's own types, carrying the service's error body
({"error": {"code", "message"}}) the way a real response does, so ``err.status_code``,
``err.error.code`` and ``str(err)`` read as they do against Azure."""

import json


class _Response:
    """The part of an azure-core HttpResponse that HttpResponseError reads."""

    def __init__(self, status, code, message):
        self.status_code = status
        self.reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}.get(status, "Error")
        self.headers = {"Content-Type": "application/json"}
        self.request = None
        self.content_type = "application/json"
        self._body = json.dumps({"error": {"code": code, "message": message}})

    def text(self, encoding=None):
        return self._body


def http_error(status, code, message, error_class=None):
    """An azure.core.exceptions error for an answer ``status`` with the service's ``code`` and
    ``message``: ResourceNotFoundError for 404, ResourceExistsError for 409, else HttpResponseError."""
    from azure.core import exceptions

    if error_class is None:
        error_class = {404: exceptions.ResourceNotFoundError,
                       409: exceptions.ResourceExistsError}.get(status, exceptions.HttpResponseError)
    return error_class(response=_Response(status, code, message))


def not_found(kind, name, workspace):
    return http_error(404, "UserError", f"{kind} {name} was not found in workspace {workspace}.")


def ml_exception(message, exception_class=None):
    """An azure.ai.ml.exceptions error, as the SDK raises it before calling the service."""
    from azure.ai.ml.exceptions import ErrorCategory, MlException

    exception_class = exception_class or MlException
    return exception_class(message=message, no_personal_data_message=message, error_category=ErrorCategory.USER_ERROR)
