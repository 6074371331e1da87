"""Domain errors raised by the logic layer; the API maps each to one HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``status`` is the HTTP status the API answers with."""

    status = 500
    #: The request field the problem is with (a dotted path into the body, a parameter or a header), if one.
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ServiceError):
    """The request names a field with a problem (400)."""

    status = 400

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field: str = field
        self.problem = problem


class NotFound(ServiceError):
    """Unknown id, or an id that belongs to another user (404: we do not tell them apart). ``field``: the request
    field that named the id, when it came from the body."""

    status = 404

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ServiceError):
    """The request is valid but clashes with the current state of a job (409)."""

    status = 409


class UpstreamError(ServiceError):
    """An AWS service refused or failed a call we cannot recover from here (502)."""

    status = 502
