"""The job record as every workflow shares it: the view the API returns, its history, pages, errors.

A workflow adds its own kinds, statuses and fields (its view subclasses ``JobView``) and registers them
(``sagestep_service.platform.registry``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Statuses every workflow uses: the record is written (``SUBMITTED``) before its execution starts, and every
#: failure path ends in ``ERROR`` with ``error`` and ``errorCause``.
SUBMITTED = "SUBMITTED"
ERROR = "ERROR"


class StatusChange(BaseModel):
    """One entry of a job's status history."""

    status: str
    at: str


class JobView(BaseModel):
    """A job as the API shows it to its owner (the fields every workflow has)."""

    model_config = ConfigDict(extra="ignore")

    jobId: str
    kind: str
    status: str
    createdAt: str
    updatedAt: str
    request: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    errorCause: str | None = None
    history: list[StatusChange] = Field(default_factory=list)


class JobPage(BaseModel):
    """One page of a job listing, newest first."""

    items: list[JobView]
    nextCursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body of the API."""

    model_config = ConfigDict(defer_build=True)  # built by the first error, not by every cold start

    message: str = Field(description="What is wrong, starting with the field at fault when there is one.")
    field: str | None = Field(
        default=None,
        description="The request field at fault: a dotted path into the body (`hyperparameters.epochs`, `body` when "
        "the body is not JSON), a query parameter or a header (`Content-Type`); absent when no one field is (e.g. an "
        "unknown id in the path).",
    )


class WaitResource(BaseModel):
    """The resource a wait is on: its waiter's type and its name."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    type: str
    name: str = Field(min_length=1)


class WaitRegisterTask(BaseModel):
    """``WaitRegister``: the task token and what it waits for."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    taskToken: str = Field(min_length=1)
    jobId: str
    resource: WaitResource
    expect: dict[str, str] = Field(default_factory=dict)
    deadlineSeconds: int = Field(default=0, ge=0, description="The task's timeout; the wait record outlives it")
