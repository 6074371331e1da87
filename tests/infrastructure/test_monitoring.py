"""The stack's monitoring in its template: what alarms, where alarms go, which keys CloudWatch may use, and that
two stacks in one account never watch each other's metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from stacks.platform import constants
from stacks.workflows import WORKFLOWS
from tests.infrastructure.synthesis import REPO_ROOT, Synth, as_list, flatten, synthesize

OTHER_STACK = "sagestep-other"
CLOUDWATCH = "cloudwatch.amazonaws.com"


@pytest.fixture(scope="module")
def other_stack(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The same app deployed a second time in the account, under another stack name."""
    return synthesize(tmp_path_factory.mktemp("cdk.out.other"), {"stackName": OTHER_STACK})


@dataclass(frozen=True)
class WatchedMetric:
    """One metric an alarm reads; dimension values as in the template (literals or intrinsics)."""

    namespace: str
    name: str
    dimensions: dict[str, Any]


def _metrics(alarm: dict[str, Any]) -> list[WatchedMetric]:
    """The metrics of an alarm, whether it names one metric or a metric-math expression over several."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        stats = [properties]
    else:
        stats = [query["MetricStat"]["Metric"] for query in properties["Metrics"] if "MetricStat" in query]
    return [
        WatchedMetric(
            stat["Namespace"], stat["MetricName"], {d["Name"]: d["Value"] for d in stat.get("Dimensions", [])}
        )
        for stat in stats
    ]


def _alarms(synth: Synth) -> Iterator[tuple[str, dict[str, Any], list[WatchedMetric]]]:
    for logical_id, alarm in synth.resources("AWS::CloudWatch::Alarm").items():
        yield logical_id, alarm, _metrics(alarm)


def _watched(synth: Synth) -> list[WatchedMetric]:
    return [metric for _, _, metrics in _alarms(synth) for metric in metrics]


def _names_a_resource_of(synth: Synth, value: Any) -> bool:
    """Whether a value refers to a resource of this template (a Ref or GetAtt, possibly inside a Join)."""
    if isinstance(value, str):
        return False
    if "Ref" in value:
        return value["Ref"] in synth.template["Resources"]
    if "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0] in synth.template["Resources"]
    if "Fn::Join" in value:
        return any(_names_a_resource_of(synth, part) for part in value["Fn::Join"][1])
    return False


def _account_wide_identity(synth: Synth, metric: WatchedMetric) -> tuple[str, ...] | None:
    """What identifies the metric in the account when nothing in it refers to a resource of the stack: its
    namespace, name and literal dimensions (another stack with the same identity watches the same metric).
    None when a dimension is one of the stack's own resources."""
    if any(_names_a_resource_of(synth, value) for value in metric.dimensions.values()):
        return None
    return (metric.namespace, metric.name, *sorted(f"{k}={flatten(v)}" for k, v in metric.dimensions.items()))


def _statements_for(policy_document: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in policy_document["Statement"]
        if statement["Effect"] == "Allow" and service in as_list(statement.get("Principal", {}).get("Service", []))
    ]


# --- where alarms go ---------------------------------------------------------------------------------------


def test_every_alarm_notifies_the_operator_topic_and_never_the_job_topic(synth: Synth) -> None:
    # Given the operator topic and the users' job topic
    operator_topic_id, _ = synth.labelled("OperatorTopic")
    job_topic_id, _ = synth.labelled("Topic")
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        properties = alarm["Properties"]
        # Then every alarm (and its return to OK) goes to the operators only
        assert properties["AlarmActions"] == [{"Ref": operator_topic_id}], logical_id
        assert properties.get("OKActions", []) in ([], [{"Ref": operator_topic_id}]), logical_id
        assert {"Ref": job_topic_id} not in properties.get("InsufficientDataActions", []), logical_id


def test_the_job_topic_and_its_key_grant_cloudwatch_nothing(synth: Synth) -> None:
    # Given the job topic's policy and the storage key (data, table, job topic, logs)
    job_topic_id, _ = synth.labelled("Topic")
    (policy,) = [
        p
        for p in synth.resources("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": job_topic_id}]
    ]
    _, key = synth.labelled("Key")
    # Then CloudWatch may neither publish job messages nor use the key that protects the job data
    assert _statements_for(policy["Properties"]["PolicyDocument"], CLOUDWATCH) == []
    assert _statements_for(key["Properties"]["KeyPolicy"], CLOUDWATCH) == []


def test_only_this_stacks_alarms_may_publish_to_the_operator_topic_and_use_its_key(synth: Synth) -> None:
    # Given the operator topic's policy and its own key
    topic_id, _ = synth.labelled("OperatorTopic")
    _, key = synth.labelled("OperatorKey")
    (policy,) = [
        p for p in synth.resources("AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    alarm_arns = f"arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{synth.stack_name}-*"
    (publish,) = _statements_for(policy["Properties"]["PolicyDocument"], CLOUDWATCH)
    (use_key,) = _statements_for(key["Properties"]["KeyPolicy"], CLOUDWATCH)
    # Then CloudWatch may publish, and encrypt with the key, only on behalf of this stack's alarms
    assert as_list(publish["Action"]) == ["sns:Publish"]
    assert sorted(as_list(use_key["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    for statement in (publish, use_key):
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        assert flatten(condition["ArnLike"]["aws:SourceArn"]) == alarm_arns
    # And every alarm's name matches that pattern (else its notifications would be refused)
    for logical_id, alarm in synth.resources("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmName"].startswith(f"{synth.stack_name}-"), logical_id


def test_no_key_lets_a_service_use_it_without_a_condition(synth: Synth) -> None:
    # Given every key policy of the stack
    for logical_id, key in synth.resources("AWS::KMS::Key").items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            # Then a statement for an AWS service principal is scoped (source account/ARN, encryption context)
            if "Service" in statement.get("Principal", {}):
                assert statement.get("Condition"), (logical_id, statement)


# --- what alarms -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.NAME)
def test_a_workflow_alarms_on_platform_failures_not_on_failed_jobs(synth: Synth, workflow: Any) -> None:
    # Given the workflow's state machine and the alarms that read Step Functions metrics about it
    state_machine_id, _ = synth.labelled(f"{workflow.NAME.capitalize()}StateMachine")
    watched = {
        metric.name
        for metric in _watched(synth)
        if metric.namespace == "AWS/States" and metric.dimensions == {"StateMachineArn": {"Ref": state_machine_id}}
    }
    # Then a failed execution alone does not alarm: a job failing on its user's input ends in a Fail state
    assert "ExecutionsFailed" not in {metric.name for metric in _watched(synth) if metric.namespace == "AWS/States"}
    # And aborted, timed-out and throttled executions do
    assert {"ExecutionsAborted", "ExecutionsTimedOut", "ExecutionThrottled"} <= watched


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.NAME)
def test_executions_failing_outside_the_failure_path_are_counted_and_alarm(synth: Synth, workflow: Any) -> None:
    # Given the workflow's state machine log group and the metric filters on it
    _, state_machine = synth.labelled(f"{workflow.NAME.capitalize()}StateMachine")
    log_group_arn = state_machine["Properties"]["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]
    log_group_id = log_group_arn["LogGroupArn"]["Fn::GetAtt"][0]
    (metric_filter,) = [
        f["Properties"]
        for f in synth.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["LogGroupName"] == {"Ref": log_group_id}
    ]
    # Then it counts failed executions whose error is none of the failure path's Fail errors (here JobFailed)
    pattern = metric_filter["FilterPattern"]
    assert '$.type = "ExecutionFailed"' in pattern
    assert '$.details.error != "JobFailed"' in pattern
    (transformation,) = metric_filter["MetricTransformations"]
    # And that count, in the stack's own namespace, alarms
    assert transformation["MetricNamespace"] == f"sagestep/{synth.stack_name}"
    assert WatchedMetric(transformation["MetricNamespace"], transformation["MetricName"], {}) in _watched(synth)


def test_jobs_closed_by_the_safety_net_are_counted_from_its_log_and_alarm(synth: Synth) -> None:
    # Given the safety net's function and its log group
    _, function = synth.labelled(constants.EXECUTION_CLOSED_FUNCTION)
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    (metric_filter,) = [
        f["Properties"]
        for f in synth.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["LogGroupName"] == {"Ref": log_group_id}
    ]
    # Then the filter matches the line the function logs when it closes a job
    assert metric_filter["FilterPattern"] == f'{{ $.message = "{constants.SAFETY_NET_CLOSED_MESSAGE}" }}'
    handlers = (REPO_ROOT / "lambdas/sagestep_service/platform/handlers.py").read_text(encoding="utf-8")
    assert f'"{constants.SAFETY_NET_CLOSED_MESSAGE}"' in handlers
    (transformation,) = metric_filter["MetricTransformations"]
    assert WatchedMetric(transformation["MetricNamespace"], transformation["MetricName"], {}) in _watched(synth)


def test_every_function_alarms_on_errors_and_throttles(synth: Synth) -> None:
    # Given every Lambda function of the stack
    watched = _watched(synth)
    functions = synth.resources("AWS::Lambda::Function")
    assert len(functions) == 26
    for logical_id in functions:
        # Then its errors and its throttles alarm
        for name in ("Errors", "Throttles"):
            assert WatchedMetric("AWS/Lambda", name, {"FunctionName": {"Ref": logical_id}}) in watched, (
                logical_id,
                name,
            )


def test_the_rest_api_alarms_on_5xx_and_latency_of_its_own_name_and_stage(synth: Synth) -> None:
    # Given the REST API, its stage and the alarms that read API Gateway metrics
    _, rest_api = synth.labelled("RestApi")
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    api_name = rest_api["Properties"]["Name"]
    watched = [metric for metric in _watched(synth) if metric.namespace == "AWS/ApiGateway"]
    # Then the API is named after the stack, and 5xx answers and latency of that API's stage alarm
    assert api_name == f"{synth.stack_name}-api"
    dimensions = {"ApiName": api_name, "Stage": stage["Properties"]["StageName"]}
    assert {metric.name for metric in watched if metric.dimensions == dimensions} == {"5XXError", "Latency"}
    assert all(metric.dimensions == dimensions for metric in watched)


def test_the_job_table_alarms_on_system_errors_and_throttling(synth: Synth) -> None:
    table_id, _ = synth.labelled("JobsTable")
    watched = {
        metric.name
        for metric in _watched(synth)
        if metric.namespace == "AWS/DynamoDB" and metric.dimensions.get("TableName") == {"Ref": table_id}
    }
    assert {"SystemErrors", "ReadThrottleEvents", "WriteThrottleEvents"} <= watched


def test_a_message_in_the_dead_letter_queue_alarms(synth: Synth) -> None:
    # Given the dead-letter queue of the event targets (the resume rules and the safety net's rule)
    queue_id, _ = synth.labelled("WaitResumeDeadLetterQueue")
    (alarm,) = [
        alarm
        for _, alarm, metrics in _alarms(synth)
        if WatchedMetric(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        )
        in metrics
    ]
    # Then one visible message is an alarm: a dropped event is an incident
    properties = alarm["Properties"]
    assert properties["Threshold"] == 0
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["EvaluationPeriods"] == 1
    assert properties["DatapointsToAlarm"] == 1
    (query,) = properties["Metrics"]
    assert query["MetricStat"]["Stat"] == "Maximum"


def test_the_dashboard_is_named_after_the_stack(synth: Synth) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == synth.stack_name


# --- two stacks in one account -----------------------------------------------------------------------------


def test_every_alarm_watches_metrics_of_its_own_stack(synth: Synth, other_stack: Synth) -> None:
    # Given the app synthesized twice under two stack names, as two deployments in one account
    assert other_stack.returncode == 0, other_stack.output[-4000:]
    # When each alarm's metrics are reduced to what identifies them in the account (nothing of the stack's own)
    ours = {_account_wide_identity(synth, metric) for metric in _watched(synth)} - {None}
    theirs = {_account_wide_identity(other_stack, metric) for metric in _watched(other_stack)} - {None}
    # Then no metric is watched by both stacks (e.g. a shared `ApiName=RestApi`)
    assert ours
    assert ours & theirs == set()
    # And alarm and dashboard names, unique in an account and region, do not collide either
    for resource_type, name in (
        ("AWS::CloudWatch::Alarm", "AlarmName"),
        ("AWS::CloudWatch::Dashboard", "DashboardName"),
    ):
        mine = {r["Properties"].get(name) for r in synth.resources(resource_type).values()} - {None}
        other = {r["Properties"].get(name) for r in other_stack.resources(resource_type).values()} - {None}
        assert mine & other == set(), resource_type
