"""Alarms to the notification topic: failed executions, function errors, API server errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.platform.lambda_functions import ServiceFunction
from stacks.platform.notifications import Notifications

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """One alarm per signal; every alarm notifies the job topic (subscribers filter on attributes)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        notifications: Notifications,
        state_machines: Mapping[str, sfn.StateMachine],
        functions: Sequence[ServiceFunction],
        rest_api: apigw.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        notifications.allow_cloudwatch_alarms()
        self._action = cloudwatch_actions.SnsAction(notifications.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for workflow, state_machine in state_machines.items():
            self._alarm(
                f"{workflow}ExecutionsFailed",
                state_machine.metric_failed(period=PERIOD),
                f"A {workflow} execution failed (the job record and its SNS message have the cause)",
            )
            self._alarm(
                f"{workflow}ExecutionsTimedOut",
                state_machine.metric_timed_out(period=PERIOD),
                f"A {workflow} execution timed out",
            )
        for service_function in functions:
            self._alarm(
                f"{service_function.name}Errors",
                service_function.function.metric_errors(period=PERIOD),
                f"The {service_function.name} function raised errors",
            )
        self._alarm(
            "Api5xx",
            rest_api.metric_server_error(period=PERIOD),
            "The REST API answered with server errors",
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
