"""Which hyperparameter names a request may give sagestep's training container: an unknown name is a 400 at
submission, not a job that fails seconds into its training job (the container refuses unknown names)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.training.models import (
    CONTAINER_HYPERPARAMETERS,
    SAGEMAKER_HYPERPARAMETER_PREFIXES,
    SET_FROM_REQUEST,
)

#: What a request may set: the container's hyperparameters but those sagestep derives from the request.
SETTABLE = sorted(CONTAINER_HYPERPARAMETERS - SET_FROM_REQUEST.keys())


def check_names(values: Mapping[str, object], field: str = "hyperparameters") -> None:
    """Refuse a name the container does not know (with the closest known one) or one sagestep sets itself
    (with the request field that sets it). SageMaker's own ``_*`` and ``sagemaker_*`` names pass."""
    for name in values:
        if name.startswith(SAGEMAKER_HYPERPARAMETER_PREFIXES):
            continue
        if name in SET_FROM_REQUEST:
            raise BadRequest(f"{field}.{name}", f"is set by sagestep from {SET_FROM_REQUEST[name]}")
        if name not in CONTAINER_HYPERPARAMETERS:
            close = difflib.get_close_matches(name, SETTABLE, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise BadRequest(
                f"{field}.{name}",
                f"is not a hyperparameter of sagestep's training container; {hint}known: {', '.join(SETTABLE)}",
            )
