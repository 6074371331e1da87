"""The interpreter's ``aws-sdk:<service>:<action>`` tasks: error names and outputs as Step Functions has them.

AWS names an aws-sdk task's error ``<Service>.<Exception>``, both in Pascal case, the service spelt as in the
AWS SDKs' client names (``AcmPca``, ``DynamoDb``, ``SageMaker``) and ``Exception`` appended when the service's
own error name lacks it (``S3.BucketAlreadyExistsException``). Its outputs are JSON, timestamps as ISO 8601 strings.

Translate is the throwaway emulation of ``fixtures/translate.py`` (moto has none); Textract, SageMaker and
DynamoDB are moto's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sagestep.local.emulator import LocalAws
from sagestep.local.stepfunctions.integrations.aws_sdk import error_name, service_error_name
from tests.local.fixtures.translate import ThrowawayTranslate

ROLE = "arn:aws:iam::123456789012:role/sagestep-test"
TABLE = "aws-sdk-items"
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(services=[ThrowawayTranslate()]) as local:
        local.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        local.client("dynamodb").put_item(TableName=TABLE, Item={"id": {"S": "taken"}})
        yield local


def run_task(aws: LocalAws, resource: str, parameters: dict[str, Any], **task: Any) -> dict[str, Any]:
    """Run a one-Task state machine (with the given Retry/Catch) to its end; DescribeExecution's answer."""
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **task},
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    if "Catch" not in task:
        del definition["States"]["Caught"]  # type: ignore[attr-defined]
    sfn = aws.client("stepfunctions")
    name = f"aws-sdk-{next(_names)}"
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=name, input="{}")
    deadline = time.monotonic() + 30
    while True:
        description = sfn.describe_execution(executionArn=execution["executionArn"])
        if description["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(description)
        time.sleep(0.05)


def task_failures(aws: LocalAws, execution_arn: str) -> list[str]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


@pytest.mark.parametrize(
    ("boto_service", "expected"),
    [
        ("acm-pca", "AcmPca"),  # AWS's own example: AcmPca.ResourceNotFoundException
        ("s3", "S3"),
        ("dynamodb", "DynamoDb"),
        ("stepfunctions", "Sfn"),
        ("sagemaker", "SageMaker"),
        ("translate", "Translate"),
        ("textract", "Textract"),
        ("comprehend", "Comprehend"),
        ("ec2", "Ec2"),
        ("logs", "CloudWatchLogs"),
    ],
)
def test_service_names_are_spelt_as_the_aws_sdks_name_their_clients(boto_service: str, expected: str) -> None:
    assert service_error_name(boto_service) == expected


def test_exception_is_appended_where_the_service_name_lacks_it() -> None:
    assert error_name("S3", "BucketAlreadyExists") == "S3.BucketAlreadyExistsException"
    assert error_name("Translate", "UnsupportedLanguagePairException") == "Translate.UnsupportedLanguagePairException"


ERROR_CASES = [
    pytest.param(
        "translate:translateText",
        {"Text": "hello", "SourceLanguageCode": "en", "TargetLanguageCode": "xx"},
        "Translate.UnsupportedLanguagePairException",
        "Translate",
        id="translate",
    ),
    pytest.param(
        "textract:startDocumentTextDetection",
        {"DocumentLocation": {}},
        "Textract.InvalidParameterException",
        "Textract",
        id="textract",
    ),
    pytest.param(
        "sagemaker:describeHyperParameterTuningJob",
        {"HyperParameterTuningJobName": "missing"},
        # SageMaker's own error name is ResourceNotFound; Step Functions appends "Exception".
        "SageMaker.ResourceNotFoundException",
        "SageMaker",
        id="sagemaker",
    ),
    pytest.param(
        "dynamodb:putItem",
        {"TableName": TABLE, "Item": {"id": {"S": "taken"}}, "ConditionExpression": "attribute_not_exists(id)"},
        "DynamoDb.ConditionalCheckFailedException",
        "DynamoDb",
        id="dynamodb",
    ),
]


@pytest.mark.parametrize(("action", "parameters", "error", "service"), ERROR_CASES)
def test_aws_sdk_errors_are_named_as_aws_names_them_and_catch_matches_them(
    aws: LocalAws, action: str, parameters: dict[str, Any], error: str, service: str
) -> None:
    # Given an aws-sdk task whose call fails, with a Catch on the error's AWS name
    catch = [{"ErrorEquals": [error], "ResultPath": "$.error", "Next": "Caught"}]

    # When it runs
    run = run_task(aws, f"arn:aws:states:::aws-sdk:{action}", parameters, Catch=catch)

    # Then the Catch matched: the error is the AWS name, the cause names the service the same way
    assert run["status"] == "SUCCEEDED", run
    caught = json.loads(run["output"])["error"]
    assert caught["Error"] == error
    assert f"(Service: {service}, Status Code: 400, Request ID: " in caught["Cause"]
    assert task_failures(aws, run["executionArn"]) == [error]


def test_retry_on_the_aws_error_name_retries_the_task(aws: LocalAws) -> None:
    # Given an aws-sdk task that always fails, retried once on its AWS error name
    retry = [{"ErrorEquals": ["Textract.InvalidParameterException"], "IntervalSeconds": 1, "MaxAttempts": 1}]

    # When it runs
    run = run_task(
        aws, "arn:aws:states:::aws-sdk:textract:startDocumentTextDetection", {"DocumentLocation": {}}, Retry=retry
    )

    # Then it was tried twice, and the execution fails with the AWS name
    assert run["status"] == "FAILED"
    assert run["error"] == "Textract.InvalidParameterException"
    assert task_failures(aws, run["executionArn"]) == ["Textract.InvalidParameterException"] * 2


def test_aws_sdk_output_with_timestamps_is_json_with_iso_timestamps(aws: LocalAws) -> None:
    # Given a SageMaker model, whose DescribeModel response has a CreationTime timestamp
    aws.client("sagemaker").create_model(
        ModelName="described", PrimaryContainer={"Image": "image:latest"}, ExecutionRoleArn=ROLE
    )
    created = aws.client("sagemaker").describe_model(ModelName="described")["CreationTime"]

    # When an aws-sdk task returns it
    sfn = aws.client("stepfunctions")
    definition = {
        "StartAt": "Describe",
        "States": {
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModel",
                "Parameters": {"ModelName": "described"},
                "End": True,
            },
        },
    }
    machine = sfn.create_state_machine(name="describe-model", definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="describe-model", input="{}")
    deadline = time.monotonic() + 30
    while (run := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    # Then the execution succeeds, its output is JSON, and the timestamp is ISO 8601 with milliseconds, in UTC
    assert run["status"] == "SUCCEEDED", run
    output = json.loads(run["output"])
    assert output["ModelName"] == "described"
    assert ISO_MILLIS.match(output["CreationTime"])
    moment = dt.datetime.fromisoformat(output["CreationTime"].replace("Z", "+00:00"))
    assert abs((moment - created).total_seconds()) < 0.001
    assert "ResponseMetadata" not in output
    # And the history, which holds the same output, reads back too
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    succeeded = next(e for e in events if e["type"] == "TaskSucceeded")
    assert json.loads(succeeded["taskSucceededEventDetails"]["output"])["CreationTime"] == output["CreationTime"]
