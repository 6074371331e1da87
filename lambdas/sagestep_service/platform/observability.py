"""The Powertools logger, tracer and metrics every sagestep function uses.

``tracer`` is Powertools' ``Tracer`` only when tracing is enabled (by Powertools' own rule: in Lambda, not under
SAM local or Chalice, ``POWERTOOLS_TRACE_DISABLED`` not set; the stack's functions have active tracing). Otherwise
its decorators return the function as it is: a ``Tracer`` imports the X-Ray SDK even when disabled, and that
import was the largest part of the API's cold start (bench/api_cold_start.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

F = TypeVar("F", bound=Callable[..., Any])


class Untraced:
    """``Tracer``'s decorators with tracing disabled: nothing to record, so no wrapper either."""

    @staticmethod
    def capture_lambda_handler(handler: F) -> F:
        return handler

    @staticmethod
    def capture_method(method: F) -> F:
        return method


#: Every call these functions make to another service is an AWS call through boto3. Without a list, the tracer
#: imports and patches every library the X-Ray SDK supports that is installed (sqlite3, requests, httpx, ...).
PATCHED_MODULES = ("botocore",)


def _tracer() -> Tracer | Untraced:
    return Untraced() if Tracer._is_tracer_disabled() else Tracer(patch_modules=PATCHED_MODULES)


logger = Logger()
tracer = _tracer()
metrics = Metrics()
