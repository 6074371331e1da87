"""The AWS SDK integrations (``arn:aws:states:::aws-sdk:<service>:<action>``), as Step Functions runs them.

moto's interpreter calls the action (camelCase -> snake_case, parameters passed through; request-response
and ``.waitForTaskToken``) and is kept for that. Two things are changed:

- **Error names.** Step Functions names a failed call's error ``<Service>.<Exception>``: the service in
  Pascal case as the AWS SDKs name its client (``Translate``, ``Textract``, ``SageMaker``, ``DynamoDb``,
  ``Sfn``, ``AcmPca``, ``S3``), the exception as the service names it, with ``Exception`` appended when the
  name lacks it (SageMaker's ``ResourceNotFound`` -> ``SageMaker.ResourceNotFoundException``). moto spells
  the service as in the Resource (``translate.UnsupportedLanguagePairException``), so a Retry or Catch on
  the AWS name never matched. The cause keeps moto's form with the same service name:
  ``"<message> (Service: Translate, Status Code: 400, Request ID: <id>)"``.
- **Outputs are JSON.** boto3 gives timestamps as ``datetime`` and blobs as ``bytes``; moto put them into
  the state's output as they were, and the execution then failed or DescribeExecution answered 500. They
  are converted as Step Functions outputs them: timestamps as ISO 8601 strings in UTC with milliseconds
  (``"2026-11-22T14:05:11.527Z"``, which ``Timestamp*`` Choice rules compare), blobs and streamed bodies
  as text; ``ResponseMetadata`` is dropped.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from botocore.exceptions import ClientError

from sagestep.local.serialization import json_safe
from sagestep.local.stepfunctions.integrations import IntegrationContext


def pascal_case(name: str) -> str:
    """A service id in Pascal case as the AWS SDK for Java 2.x names clients (``DynamoDB`` -> ``DynamoDb``).

    Words are split at non-alphanumerics, between a lower-case letter and a capitalised word, after an
    acronym and after a digit; each word is then capitalised with the rest in lower case.
    """
    spaced = re.sub(r"[^A-Za-z0-9]+", " ", name)
    spaced = re.sub(r"([^a-z]{2,})v([0-9]+)", r"\1 v\2 ", spaced)
    spaced = re.sub(r"([^A-Z]{2,})V([0-9]+)", r"\1 V\2 ", spaced)
    spaced = " ".join(re.split(r"(?<=[a-z])(?=[A-Z][a-zA-Z0-9])", spaced))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    spaced = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", spaced)
    return "".join(word[:1].upper() + word[1:].lower() for word in spaced.split())


@functools.cache
def service_error_name(boto_service_name: str) -> str:
    """The service part of an aws-sdk error name: the service id of botocore's model in Pascal case."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        service_id = str(botocore.session.get_session().get_service_model(boto_service_name).service_id)
    except UnknownServiceError:
        service_id = boto_service_name
    return pascal_case(service_id)


def error_name(service: str, exception: str) -> str:
    """``<Service>.<Exception>``, with ``Exception`` appended as Step Functions does."""
    return f"{service}.{exception}" if exception.endswith("Exception") else f"{service}.{exception}Exception"


def build(context: IntegrationContext) -> type:
    """moto's aws-sdk task class with AWS's error names and JSON outputs (see the module docstring)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )

    class StateTaskServiceAwsSdkLocal(StateTaskServiceAwsSdk):
        """The aws-sdk integration: any action of any service, request-response or ``.waitForTaskToken``."""

        def _eval_service_task(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> None:
            super()._eval_service_task(env, resource_runtime_part, normalised_parameters, state_credentials)
            env.stack.append(json_safe(env.stack.pop(), timestamps="iso"))

        def _from_error(self, env: Any, ex: Exception) -> Any:
            if not isinstance(ex, ClientError):
                return super()._from_error(env=env, ex=ex)
            service = service_error_name(self._get_boto_service_name())
            # botocore raises a class named after the service's error shape; an error the service
            # model does not list comes as ClientError, which the SDKs report as the service's exception.
            exception = service if type(ex) is ClientError else type(ex).__name__
            meta = ex.response.get("ResponseMetadata", {})
            details = [
                f"Service: {service}",
                f"Status Code: {meta.get('HTTPStatusCode', 400)}",
                f"Request ID: {meta.get('RequestId', '')}",
            ]
            if "HostId" in meta:
                details.append(f"Extended Request ID: {meta['HostId']}")
            cause = f"{ex.response.get('Error', {}).get('Message', '')} ({', '.join(details)})"
            return self._get_task_failure_event(env=env, error=error_name(service, exception), cause=cause)

    return StateTaskServiceAwsSdkLocal
