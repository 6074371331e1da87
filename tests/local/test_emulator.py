"""The embedded AWS emulation: in-process Lambda, Step Functions with SageMaker, real SageMaker work.

One LocalAws serves the whole module; the container is ``fake_container/container.py``, which follows
the training container's contract in a few lines.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sagestep.local.emulator import LocalAws
from sagestep.local.services.sagemaker import SageMakerEmulator

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fake-training:latest"
FAKE_CONTAINER = [sys.executable, str(Path(__file__).parent / "fake_container" / "container.py")]
ROLE = "arn:aws:iam::123456789012:role/sagestep-sagemaker"
BUCKET = "sagestep-data"
METRICS = [{"Name": "validation:loss", "Regex": "validation_loss=([-+0-9.eE]+);"}]
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(
        services=[SageMakerEmulator(container_commands={IMAGE: FAKE_CONTAINER}, endpoint_start_timeout=20)],
        sync_poll_interval=0.2,
        async_retry_delays=(0.2,),
    ) as local:
        s3 = local.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="input/train/part-1.csv", Body=b"1,2,3\n4,5,6\n")
        s3.put_object(Bucket=BUCKET, Key="input/train/nested/part-2.csv", Body=b"7,8,9\n")
        yield local


@pytest.fixture(autouse=True)
def _disarm_faults(aws: LocalAws) -> Iterator[None]:
    yield
    aws.faults.clear()


def run_execution(
    aws: LocalAws, definition: dict[str, Any], execution_input: Any, timeout: float = 60
) -> dict[str, Any]:
    """Create a state machine, run one execution and return DescribeExecution once it has ended."""
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name=unique("sm"), definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name=unique("exec"), input=json.dumps(execution_input)
    )
    return wait_execution(aws, execution["executionArn"], timeout)


def wait_execution(aws: LocalAws, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING" or time.monotonic() > deadline:
            return description
        time.sleep(0.05)


def history(aws: LocalAws, execution_arn: str) -> list[dict[str, Any]]:
    return aws.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


def training_parameters(job_name: str | None, hyperparameters: dict[str, str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File", "MetricDefinitions": METRICS},
        "HyperParameters": hyperparameters,
        "RoleArn": ROLE,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/input/train"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }
    if job_name is not None:
        parameters["TrainingJobName"] = job_name
    return parameters


def create_model(aws: LocalAws, bias: float = 0.0, crash_on_serve: bool = False) -> str:
    """Upload a model.tar.gz for the fake container, create the model and a config; return the config."""
    name = unique("model")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = json.dumps({"bias": bias, "crash_on_serve": crash_on_serve}).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    key = f"models/{name}/model.tar.gz"
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{key}"},
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    return f"{name}-config"


def wait_endpoint(aws: LocalAws, name: str, timeout: float = 30) -> dict[str, Any]:
    sagemaker = aws.client("sagemaker")
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_endpoint(EndpointName=name)
        if description["EndpointStatus"] not in ("Creating", "Updating") or time.monotonic() > deadline:
            return description
        time.sleep(0.05)


# In-process Lambda ---------------------------------------------------------------------------------


class FlakyError(Exception):
    pass


class BoomError(Exception):
    pass


def test_lambda_task_retries_a_custom_error_then_succeeds_and_catch_sees_errors(aws: LocalAws) -> None:
    # Given a function that fails twice with FlakyError, and one that always raises BoomError
    calls: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        if len(calls) <= 2:
            raise FlakyError(f"attempt {len(calls)}")
        return {
            "attempts": len(calls),
            "function": context.function_name,
            "remaining": context.get_remaining_time_in_millis(),
        }

    def boom(event: dict[str, Any], context: Any) -> None:
        raise BoomError("it went boom")

    flaky_arn = aws.register_lambda("Flaky", flaky, {"SAGESTEP_TEST_SETTING": "on"})
    boom_arn = aws.register_lambda("Boom", boom, {"SAGESTEP_TEST_SETTING": "on"})

    def definition(arn: str) -> dict[str, Any]:
        return {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": arn, "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "Retry": [
                        {"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}
                    ],
                    "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }

    # When both run through a Task with Retry on FlakyError and Catch on States.TaskFailed
    flaky_run = run_execution(aws, definition(flaky_arn), {"job": "a"})
    boom_run = run_execution(aws, definition(boom_arn), {"job": "b"})

    # Then the flaky one succeeds on the third attempt
    assert flaky_run["status"] == "SUCCEEDED"
    output = json.loads(flaky_run["output"])
    assert output["attempts"] == 3
    assert output["function"] == "Flaky"
    assert 0 < output["remaining"] <= 60_000
    failures = [e for e in history(aws, flaky_run["executionArn"]) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failures] == ["FlakyError", "FlakyError"]
    # And the other is caught with the exception's class name and AWS's error payload as cause
    caught = json.loads(boom_run["output"])["error"]
    assert caught["Error"] == "BoomError"
    assert json.loads(caught["Cause"])["errorMessage"] == "it went boom"
    # And direct invocations report the error as AWS does
    response = aws.client("lambda").invoke(FunctionName="Boom", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "BoomError"


def test_powertools_decorated_handlers_run_with_the_local_context(aws: LocalAws) -> None:
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.metrics import MetricUnit

    logger, tracer, metrics = Logger(service="sagestep"), Tracer(service="sagestep"), Metrics(namespace="sagestep")

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="Calls", unit=MetricUnit.Count, value=1)
        logger.info("called")
        return {"request": context.aws_request_id, "arn": context.invoked_function_arn}

    arn = aws.register_lambda("Powertools", handler, {"POWERTOOLS_SERVICE_NAME": "sagestep"})
    answer = json.loads(aws.client("lambda").invoke(FunctionName="Powertools", Payload=b"{}")["Payload"].read())
    assert answer["arn"] == arn
    assert answer["request"]


def test_lambda_environments_that_disagree_are_refused(aws: LocalAws) -> None:
    aws.register_lambda("EnvA", lambda e, c: None, {"SAGESTEP_TEST_TABLE": "jobs"})
    with pytest.raises(ValueError, match="SAGESTEP_TEST_TABLE"):
        aws.register_lambda("EnvB", lambda e, c: None, {"SAGESTEP_TEST_TABLE": "other"})
    # Registering a function again replaces its handler and its own variables
    aws.register_lambda("EnvA", lambda e, c: os.environ["SAGESTEP_TEST_TABLE"], {"SAGESTEP_TEST_TABLE": "jobs-v2"})
    assert aws.client("lambda").invoke(FunctionName="EnvA")["Payload"].read() == b'"jobs-v2"'


# SageMaker training through Step Functions ---------------------------------------------------------


TRAIN_DEFINITION = {
    "StartAt": "Train",
    "States": {
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {**training_parameters(None, {}), "TrainingJobName.$": "$.name", "HyperParameters.$": "$.hp"},
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Failed"}],
            "End": True,
        },
        "Failed": {"Type": "Pass", "End": True},
    },
}


def test_training_sync_completes_with_artifacts_and_metrics_or_fails_with_the_reason(aws: LocalAws) -> None:
    # Given a succeeding and a failing training job, run at the same time
    results: dict[str, dict[str, Any]] = {}

    def run(key: str, hyperparameters: dict[str, str]) -> None:
        results[key] = run_execution(aws, TRAIN_DEFINITION, {"name": unique(f"model-{key}"), "hp": hyperparameters})

    threads = [
        threading.Thread(target=run, args=("ok", {"x": "2", "bias": "1"})),
        threading.Thread(target=run, args=("bad", {"fail": "CUDA out of memory"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the first outputs DescribeTrainingJob: Completed, the model uploaded, the last metric value
    ok = results["ok"]
    assert ok["status"] == "SUCCEEDED"
    job = json.loads(ok["output"])
    assert job["TrainingJobStatus"] == "Completed"
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [("validation:loss", 1.0)]
    assert isinstance(job["TrainingEndTime"], int)
    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"][5:].split("/", 1)
    assert key == f"output/{job['TrainingJobName']}/output/model.tar.gz"
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert json.load(archive.extractfile("model.json"))["rows"] == 3  # type: ignore[arg-type]
    assert "rows=3" in aws.service(SageMakerEmulator).training_log(job["TrainingJobName"]).read_text()
    # And the second is caught as States.TaskFailed with the container's failure message in the cause
    caught = json.loads(results["bad"]["output"])["error"]
    assert caught["Error"] == "States.TaskFailed"
    cause = json.loads(caught["Cause"])
    assert cause["TrainingJobStatus"] == "Failed"
    assert cause["FailureReason"] == "AlgorithmError: CUDA out of memory"


def test_injected_training_failure_and_stop(aws: LocalAws) -> None:
    sagemaker = aws.client("sagemaker")
    # Given an armed training failure, the next job fails with its reason without running
    aws.faults.fail_next_training_job("InternalServerError: injected")
    failed = unique("model-fault")
    sagemaker.create_training_job(**training_parameters(failed, {}))
    # And a slow job is stopped
    slow = unique("model-slow")
    sagemaker.create_training_job(**training_parameters(slow, {"sleep": "30"}))
    time.sleep(0.5)
    sagemaker.stop_training_job(TrainingJobName=slow)
    assert aws.wait_idle(20)
    assert sagemaker.describe_training_job(TrainingJobName=failed)["FailureReason"] == "InternalServerError: injected"
    assert sagemaker.describe_training_job(TrainingJobName=slow)["TrainingJobStatus"] == "Stopped"


# Endpoints -----------------------------------------------------------------------------------------


def test_throttled_create_endpoint_is_retried_by_the_state_machine(aws: LocalAws) -> None:
    # Given CreateEndpoint is throttled twice
    config = create_model(aws)
    endpoint = unique("ep-throttled")
    aws.faults.throttle("CreateEndpoint", count=2)
    definition = {
        "StartAt": "Deploy",
        "States": {
            "Deploy": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName.$": "$.endpoint", "EndpointConfigName.$": "$.config"},
                "Retry": [
                    {
                        "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 3,
                        "BackoffRate": 1,
                    }
                ],
                "End": True,
            }
        },
    }
    # When a state machine creates the endpoint with a Retry on SageMaker.AmazonSageMakerException
    result = run_execution(aws, definition, {"endpoint": endpoint, "config": config})
    # Then it succeeds after two failures reported as AWS reports them
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["EndpointArn"].endswith(f"endpoint/{endpoint}")
    failures = [e["taskFailedEventDetails"] for e in history(aws, result["executionArn"]) if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failures] == ["SageMaker.AmazonSageMakerException"] * 2
    assert re.fullmatch(
        r"Rate exceeded \(Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException; "
        r"Request ID: [^)]+\)",
        failures[0]["cause"],
    )
    assert wait_endpoint(aws, endpoint)["EndpointStatus"] == "InService"


def test_a_refused_call_answers_its_client_error_and_takes_no_effect(aws: LocalAws) -> None:
    # Given the next CreateEndpointConfig is refused as a bad request
    sagemaker = aws.client("sagemaker")
    config = create_model(aws)
    model = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
    aws.faults.fail_call("CreateEndpointConfig", "ValidationException", "Invalid instance type ml.nope")
    variants = [{"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large"}]
    # When it is called / Then it fails with that error and status, and nothing was created
    name = unique("config")
    with pytest.raises(ClientError) as refused:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Invalid instance type ml.nope",
    }
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sagemaker.describe_endpoint_config(EndpointConfigName=name)
    # And the fault fired once: the next call goes through
    again = unique("config")
    sagemaker.create_endpoint_config(EndpointConfigName=again, ProductionVariants=variants)
    assert sagemaker.describe_endpoint_config(EndpointConfigName=again)["EndpointConfigName"] == again


def test_a_create_of_a_name_in_use_is_refused_as_on_aws(aws: LocalAws) -> None:
    # Given a model and an endpoint config (moto alone would replace them on a second create)
    sagemaker = aws.client("sagemaker")
    config = create_model(aws)
    existing = sagemaker.describe_endpoint_config(EndpointConfigName=config)
    model = sagemaker.describe_model(ModelName=existing["ProductionVariants"][0]["ModelName"])
    # When each is created again under its name / Then SageMaker's ValidationException names it
    with pytest.raises(ClientError, match=f'Cannot create already existing model "{model["ModelArn"]}"'):
        sagemaker.create_model(
            ModelName=model["ModelName"], PrimaryContainer=model["PrimaryContainer"], ExecutionRoleArn=ROLE
        )
    with pytest.raises(ClientError, match="Cannot create already existing endpoint configuration") as again:
        sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=existing["ProductionVariants"])
    assert again.value.response["Error"]["Code"] == "ValidationException"
    assert existing["EndpointConfigArn"] in again.value.response["Error"]["Message"]


def test_endpoint_in_service_answers_invocations_and_model_errors(aws: LocalAws) -> None:
    # Given an endpoint for a model with bias 10
    endpoint = unique("ep")
    sagemaker = aws.client("sagemaker")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=create_model(aws, bias=10))
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Creating"
    assert wait_endpoint(aws, endpoint)["EndpointStatus"] == "InService"
    runtime = aws.client("sagemaker-runtime")
    # When it is invoked with JSON and CSV
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, Body=json.dumps({"instances": [[1, 2], [3, 4]]}), ContentType="application/json"
    )
    csv_answer = runtime.invoke_endpoint(
        EndpointName=endpoint, Body=b"1,1\n2,2\n", ContentType="text/csv", Accept="text/csv"
    )
    # Then the container's predictions come back
    assert json.loads(answer["Body"].read()) == {"predictions": [13.0, 17.0]}
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert csv_answer["Body"].read() == b"12.0\n14.0"
    # And a container error is a ModelError, a missing endpoint a ValidationError
    with pytest.raises(ClientError) as model_error:
        runtime.invoke_endpoint(EndpointName=endpoint, Body=b"not,numbers", ContentType="text/csv")
    assert model_error.value.response["Error"]["Code"] == "ModelError"
    assert model_error.value.response["OriginalStatusCode"] == 400
    with pytest.raises(ClientError) as missing:
        runtime.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    # And a second CreateEndpoint of the same name is refused, as on AWS
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=create_model(aws))


def test_endpoints_fail_when_the_server_dies_or_a_fault_is_armed_and_hang_until_deleted(aws: LocalAws) -> None:
    sagemaker = aws.client("sagemaker")
    crashing, faulty, hanging = unique("ep-crash"), unique("ep-fault"), unique("ep-hang")
    sagemaker.create_endpoint(EndpointName=crashing, EndpointConfigName=create_model(aws, crash_on_serve=True))
    aws.faults.fail_next_endpoint("ResourceLimitExceeded: injected")
    sagemaker.create_endpoint(EndpointName=faulty, EndpointConfigName=create_model(aws))
    aws.faults.hang_next_endpoint()
    sagemaker.create_endpoint(EndpointName=hanging, EndpointConfigName=create_model(aws))

    crashed = wait_endpoint(aws, crashing)
    assert crashed["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in crashed["FailureReason"]
    assert "cannot load the model" in crashed["FailureReason"]
    assert wait_endpoint(aws, faulty)["FailureReason"] == "ResourceLimitExceeded: injected"
    assert aws.wait_idle(10)
    assert sagemaker.describe_endpoint(EndpointName=hanging)["EndpointStatus"] == "Creating"
    sagemaker.delete_endpoint(EndpointName=hanging)
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName=hanging)


def test_update_endpoint_switches_rolls_back_or_fails(aws: LocalAws) -> None:
    sagemaker = aws.client("sagemaker")
    runtime = aws.client("sagemaker-runtime")
    endpoint = unique("ep-update")
    first, second, third = create_model(aws, bias=1), create_model(aws, bias=2), create_model(aws, bias=3)
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=first)
    assert wait_endpoint(aws, endpoint)["EndpointStatus"] == "InService"

    def predict() -> float:
        answer = runtime.invoke_endpoint(EndpointName=endpoint, Body=b"0", ContentType="text/csv")
        return float(json.loads(answer["Body"].read())["predictions"][0])

    # An update that fails with a rollback configuration goes back to the old configuration
    aws.faults.fail_next_endpoint_update("model failed to load")
    rollback = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=second, DeploymentConfig=rollback)
    rolled_back = wait_endpoint(aws, endpoint)
    assert (rolled_back["EndpointStatus"], rolled_back["EndpointConfigName"]) == ("InService", first)
    assert rolled_back["FailureReason"] == "model failed to load"
    assert predict() == 1.0
    # A good update switches to the new model
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=second)
    updated = wait_endpoint(aws, endpoint)
    assert (updated["EndpointStatus"], updated["EndpointConfigName"]) == ("InService", second)
    assert predict() == 2.0
    # A failing update without deployment guardrails leaves the endpoint Failed
    aws.faults.fail_next_endpoint_update("no capacity")
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=third)
    assert wait_endpoint(aws, endpoint)["EndpointStatus"] == "Failed"


def test_endpoint_state_changes_reach_an_eventbridge_lambda_target(aws: LocalAws) -> None:
    # Given a rule for one endpoint's state changes with an in-process Lambda target
    endpoint = unique("ep-events")
    received: list[dict[str, Any]] = []
    target = aws.register_lambda("EndpointEvents", lambda event, context: received.append(event))
    events = aws.client("events")
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {"EndpointName": [endpoint]},
    }
    events.put_rule(Name=unique("rule"), EventPattern=json.dumps(pattern))
    rule = events.list_rules()["Rules"][-1]["Name"]
    events.put_targets(Rule=rule, Targets=[{"Id": "lambda", "Arn": target}])
    # When the endpoint is created and becomes InService
    config = create_model(aws)
    aws.client("sagemaker").create_endpoint(
        EndpointName=endpoint, EndpointConfigName=config, Tags=[{"Key": "sagestep:job-id", "Value": "model-1"}]
    )
    assert wait_endpoint(aws, endpoint)["EndpointStatus"] == "InService"
    assert aws.wait_idle(10)
    # Then the Lambda received AWS-shaped events for both states (delivery order is not guaranteed)
    by_status = {e["detail"]["EndpointStatus"]: e for e in received}
    assert sorted(by_status) == ["CREATING", "IN_SERVICE"] and len(received) == 2
    event = by_status["IN_SERVICE"]
    assert event["source"] == "aws.sagemaker"
    assert event["detail-type"] == "SageMaker Endpoint State Change"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == [event["detail"]["EndpointArn"]]
    assert event["detail"]["EndpointConfigName"] == config
    assert event["detail"]["Tags"] == {"sagestep:job-id": "model-1"}


# Callbacks and timeouts ----------------------------------------------------------------------------


def test_wait_for_task_token_is_resumed_by_a_lambda_with_success_or_failure(aws: LocalAws) -> None:
    # Given a Register function storing task tokens and a Resume function triggered by an event
    tokens: dict[str, str] = {}

    def register(event: dict[str, Any], context: Any) -> None:
        tokens[event["key"]] = event["token"]

    def resume(event: dict[str, Any], context: Any) -> None:
        detail = event["detail"]
        sfn = boto3.client("stepfunctions")  # an ordinary client: the process points at the emulator
        if detail["fail"]:
            sfn.send_task_failure(taskToken=tokens[detail["key"]], error="EndpointFailed", cause="no capacity")
        else:
            sfn.send_task_success(taskToken=tokens[detail["key"]], output=json.dumps({"resumed": detail["key"]}))

    register_arn = aws.register_lambda("Register", register)
    resume_arn = aws.register_lambda("Resume", resume)
    events = aws.client("events")
    events.put_rule(Name="resume", EventPattern=json.dumps({"source": ["test.resume"]}))
    events.put_targets(Rule="resume", Targets=[{"Id": "resume", "Arn": resume_arn}])
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": register_arn, "Payload": {"token.$": "$$.Task.Token", "key.$": "$.key"}},
                "TimeoutSeconds": 30,
                "Catch": [{"ErrorEquals": ["EndpointFailed"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True,
            },
            "Failed": {"Type": "Pass", "End": True},
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name=unique("sm"), definition=json.dumps(definition), roleArn=ROLE)
    executions = {
        key: sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=key, input=json.dumps({"key": key}))[
            "executionArn"
        ]
        for key in ("good", "bad")
    }
    deadline = time.monotonic() + 10
    while len(tokens) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # When events resume them
    for key in executions:
        events.put_events(
            Entries=[
                {
                    "Source": "test.resume",
                    "DetailType": "Resume",
                    "Detail": json.dumps({"key": key, "fail": key == "bad"}),
                }
            ]
        )
    # Then one succeeds with the token's output and the other is caught with the error and cause
    good = wait_execution(aws, executions["good"], 10)
    assert (good["status"], json.loads(good["output"])) == ("SUCCEEDED", {"resumed": "good"})
    bad = json.loads(wait_execution(aws, executions["bad"], 10)["output"])
    assert bad["error"] == {"Error": "EndpointFailed", "Cause": "no capacity"}


def test_stop_execution_aborts_an_execution_waiting_for_a_token(aws: LocalAws) -> None:
    arn = aws.register_lambda("Ignore", lambda event, context: None)
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": arn, "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name=unique("sm"), definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=unique("exec"))["executionArn"]
    time.sleep(0.3)
    sfn.stop_execution(executionArn=execution, error="JobDeleted", cause="deleted by its owner")
    stopped = sfn.describe_execution(executionArn=execution)
    assert (stopped["status"], stopped["error"], stopped["cause"]) == ("ABORTED", "JobDeleted", "deleted by its owner")
    assert history(aws, execution)[-1]["type"] == "ExecutionAborted"


def test_timeout_seconds_path_fails_a_waiting_task_with_states_timeout(aws: LocalAws) -> None:
    arn = aws.register_lambda("Forget", lambda event, context: None)
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": arn, "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSecondsPath": "$.deadline",
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    started = time.monotonic()
    result = run_execution(aws, definition, {"deadline": 1})
    assert json.loads(result["output"])["error"]["Error"] == "States.Timeout"
    assert time.monotonic() - started < 5


# Hyperparameter tuning -----------------------------------------------------------------------------


def test_tuning_job_sync_runs_the_trainings_and_picks_the_best(aws: LocalAws) -> None:
    # Given a Bayesian tuning job of 4 trainings, 2 at a time, minimising (x - 3)^2 + (k - 2)^2
    name = unique("hpo")
    parameters = training_parameters(None, {})
    definition = {
        "StartAt": "Tune",
        "States": {
            "Tune": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync",
                "Parameters": {
                    "HyperParameterTuningJobName.$": "$.name",
                    "HyperParameterTuningJobConfig": {
                        "Strategy": "Bayesian",
                        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
                        "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
                        "ParameterRanges": {
                            "ContinuousParameterRanges": [
                                {"Name": "x", "MinValue": "0", "MaxValue": "6", "ScalingType": "Linear"}
                            ],
                            "IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "3"}],
                        },
                    },
                    "TrainingJobDefinition": {
                        "StaticHyperParameters": {"bias": "1"},
                        **{k: v for k, v in parameters.items() if k != "HyperParameters"},
                    },
                },
                "End": True,
            }
        },
    }
    # When it runs through Step Functions
    result = run_execution(aws, definition, {"name": name}, timeout=60)
    # Then it completes with counters and the best of the trainings
    assert result["status"] == "SUCCEEDED", result
    tuning = json.loads(result["output"])
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 4
    assert tuning["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    summaries = aws.client("sagemaker").list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending"
    )["TrainingJobSummaries"]
    assert len(summaries) == 4
    assert all(re.fullmatch(rf"{name}-00[1-4]-[0-9a-f]{{8}}", s["TrainingJobName"]) for s in summaries)
    best = tuning["BestTrainingJob"]
    assert best["TrainingJobName"] == summaries[0]["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
        (float(best["TunedHyperParameters"]["x"]) - 3) ** 2 + (int(best["TunedHyperParameters"]["k"]) - 2) ** 2,
        abs=1e-5,
    )
    trial = aws.client("sagemaker").describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trial["HyperParameters"]["bias"] == "1"
    assert trial["HyperParameters"]["_tuning_objective_metric"] == "validation:loss"
    assert trial["TuningJobArn"].endswith(f"hyper-parameter-tuning-job/{name}")
    # And a second tuning job of that name is refused, as on AWS (moto would replace the first)
    create = definition["States"]["Tune"]["Parameters"]
    request = {key.removesuffix(".$"): value for key, value in create.items() if not key.endswith(".$")}
    with pytest.raises(
        ClientError, match=f"A hyperparameter tuning job with the name, {name}, already exists"
    ) as again:
        aws.client("sagemaker").create_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, **request)
    assert again.value.response["Error"]["Code"] == "ResourceInUse"
