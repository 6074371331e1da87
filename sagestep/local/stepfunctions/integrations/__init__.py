"""The Step Functions service integrations the local mode gives moto's interpreter.

A Task's ``Resource`` names an integration: ``arn:aws:states:::<service>:<action>[.sync|.waitForTaskToken]``
(an optimised integration of ``<service>``) or ``arn:aws:states:::aws-sdk:<service>:<action>`` (an SDK call).
moto's interpreter picks a task class per ``<service>`` (``aws-sdk`` for every SDK call); an entry of
:func:`default_integrations` takes the place of moto's class for its service:

- ``aws-sdk`` (:mod:`.aws_sdk`): moto's SDK integration, with errors named as AWS names them and outputs made
  JSON (timestamps in ISO 8601);
- ``sagemaker`` (:mod:`.sagemaker`): the optimised SageMaker integration, request-response and ``.sync``.

An integration is a module with ``build(context) -> task class``: a subclass of one of the interpreter's
``StateTaskService`` classes, built when the emulator starts (so that importing sagestep does not import
moto). The interpreter instantiates it once per Task state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sagestep.local.stepfunctions.clients import InterpreterClients


@dataclass(frozen=True)
class IntegrationContext:
    """What an integration's task class may use.

    :param clients: the interpreter's boto3 clients (``clients.get(region, service)``).
    :param poll_interval: seconds between the Describe* calls of a ``.sync`` task.
    """

    clients: InterpreterClients
    poll_interval: float


IntegrationBuilder = Callable[[IntegrationContext], type]


def default_integrations() -> dict[str, IntegrationBuilder]:
    """Resource service name -> builder of its task class; a new integration is one line here."""
    from sagestep.local.stepfunctions.integrations import aws_sdk, sagemaker

    return {"aws-sdk": aws_sdk.build, "sagemaker": sagemaker.build}
