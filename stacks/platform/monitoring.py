"""The stack's dashboard and alarms (cdk-monitoring-constructs); every alarm notifies the operator topic.

Alarms mean "the platform is broken", not "a job failed": a job that fails on its user's input (a bad CSV, a
missing target column) ends in its state machine's failure path, whose `Fail` state is the execution's error,
and its user gets the job's ERROR message on the job topic. What alarms:

- per workflow: executions ABORTED, TIMED_OUT or throttled, and executions that FAILED with another error than
  one of the failure path's `Fail` errors (a metric filter on the state machine's log group: an error no Catch
  handled, or a failure path that itself failed);
- jobs the safety net had to close (its function's log line: the job's own failure path never ran);
- errors and throttles of every Lambda function;
- the REST API's 5xx answers and p99 latency;
- the job table's system errors and throttled requests;
- any message visible in a dead-letter queue (an event that was never delivered).

Failed executions are on the dashboard, without an alarm.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    ErrorCountThreshold,
    LatencyThreshold,
    MaxMessageCountThreshold,
    MetricFactoryDefaults,
    MonitoringFacade,
    SnsAlarmActionStrategy,
    ThrottledEventsThreshold,
)
from constructs import Construct

from stacks.platform import constants
from stacks.platform.lambda_functions import ServiceFunction
from stacks.platform.operator_topic import OperatorTopic
from stacks.workflows.base import Workflow

#: Every alarm goes to the operator topic under this disambiguator.
SEVERITY = "Critical"


class Monitoring(Construct):
    """One dashboard (`<stack>` prefix) and the alarms above, named `<stack>-...`."""

    PERIOD = Duration.minutes(5)
    #: Periods in a row a load-dependent signal (latency, throttling, DynamoDB system errors) must breach; the
    #: others alarm on the first occurrence.
    SUSTAINED = 3
    API_LATENCY_P99 = Duration.seconds(10)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        operator_topic: OperatorTopic,
        workflows: Sequence[Workflow],
        functions: Sequence[ServiceFunction],
        safety_net: ServiceFunction,
        rest_api: apigw.RestApi,
        job_table: dynamodb.ITable,
        dead_letter_queues: Sequence[sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        # Custom metrics (from log filters) are the stack's own: the namespace names the stack.
        self.namespace = f"{constants.APP_NAME}/{stack_name}"
        operator_topic.allow_cloudwatch_alarms(f"{stack_name}-*")
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                alarm_name_prefix=stack_name,
                actions_enabled=True,
                action=SnsAlarmActionStrategy(on_alarm_topic=operator_topic.topic, on_ok_topic=operator_topic.topic),
                datapoints_to_alarm=1,
                evaluation_periods=1,
            ),
            metric_factory_defaults=MetricFactoryDefaults(period=self.PERIOD),
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=stack_name,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self.facade.add_large_header(f"sagestep stack {stack_name}")
        for workflow in workflows:
            self._workflow(workflow)
        self._safety_net(safety_net)
        for service_function in functions:
            self._function(service_function)
        self._api(rest_api)
        self._table(job_table)
        for queue in dead_letter_queues:
            self._dead_letter_queue(queue)

    def _workflow(self, workflow: Workflow) -> None:
        title = workflow.title
        self.facade.monitor_step_function(
            state_machine=workflow.state_machine,
            alarm_friendly_name=f"{title}StateMachine",
            human_readable_name=f"{title} workflow ({workflow.state_machine_name})",
            add_aborted_execution_count_alarm={
                SEVERITY: _any(f"A {workflow.NAME} execution was aborted (stopped outside sagestep)")
            },
            add_timed_out_execution_count_alarm={SEVERITY: _any(f"A {workflow.NAME} execution timed out")},
            add_throttled_execution_count_alarm={
                SEVERITY: _any(f"Step Functions throttled {workflow.NAME} state transitions or executions")
            },
        )
        errors = sorted(workflow.failure_path_errors)
        pattern = logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.type", "=", "ExecutionFailed"),
            *(logs.FilterPattern.string_value("$.details.error", "!=", error) for error in errors),
        )
        self._log_metric_alarm(
            f"{title}UnhandledFailures",
            workflow.state_machine_logs,
            pattern,
            title=f"{title} executions failed outside the failure path",
            description=f"A {workflow.NAME} execution failed with an error its failure path did not handle "
            f"(not {', '.join(errors) or 'a Fail state'}): see its execution history",
        )

    def _safety_net(self, safety_net: ServiceFunction) -> None:
        self._log_metric_alarm(
            "AbandonedJobsClosed",
            safety_net.log_group,
            logs.FilterPattern.string_value("$.message", "=", constants.SAFETY_NET_CLOSED_MESSAGE),
            title="Jobs closed by the safety net",
            description="The safety net closed a job whose execution ended outside its failure path (the job is "
            "ERROR and its user was notified): see the ExecutionClosed function's log",
        )

    def _function(self, service_function: ServiceFunction) -> None:
        name = service_function.name
        self.facade.monitor_lambda_function(
            lambda_function=service_function.function,
            alarm_friendly_name=f"{name}Function",
            human_readable_name=f"{name} function",
            add_fault_count_alarm={SEVERITY: _any(f"The {name} function raised errors")},
            add_throttles_count_alarm={SEVERITY: _any(f"The {name} function was throttled", periods=self.SUSTAINED)},
        )

    def _api(self, rest_api: apigw.RestApi) -> None:
        self.facade.monitor_api_gateway(
            api=rest_api,
            api_stage=constants.API_STAGE_NAME,
            alarm_friendly_name="RestApi",
            human_readable_name=f"REST API ({rest_api.rest_api_name})",
            add5_xx_fault_count_alarm={SEVERITY: _any("The REST API answered with server errors (5xx)")},
            add_latency_p99_alarm={
                SEVERITY: LatencyThreshold(
                    max_latency=self.API_LATENCY_P99,
                    datapoints_to_alarm=self.SUSTAINED,
                    evaluation_periods=self.SUSTAINED,
                    alarm_description_override=f"The REST API's p99 latency exceeded "
                    f"{self.API_LATENCY_P99.to_seconds()} s for {self.SUSTAINED} periods in a row",
                )
            },
        )

    def _table(self, table: dynamodb.ITable) -> None:
        throttled = ThrottledEventsThreshold(
            max_throttled_events_threshold=0,
            datapoints_to_alarm=self.SUSTAINED,
            evaluation_periods=self.SUSTAINED,
            alarm_description_override="The job table throttled requests",
        )
        self.facade.monitor_dynamo_table(
            table=table,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            alarm_friendly_name="JobsTable",
            human_readable_name="Job table",
            add_system_error_count_alarm={
                SEVERITY: _any("The job table answered with system errors", periods=self.SUSTAINED)
            },
            add_read_throttled_events_count_alarm={SEVERITY: throttled},
            add_write_throttled_events_count_alarm={SEVERITY: throttled},
        )

    def _dead_letter_queue(self, queue: sqs.IQueue) -> None:
        self.facade.monitor_sqs_queue(
            queue=queue,
            alarm_friendly_name=queue.node.id,
            human_readable_name=f"Dead-letter queue {queue.node.id}",
            add_queue_max_size_alarm={
                SEVERITY: MaxMessageCountThreshold(
                    max_message_count=0,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description_override="An event could not be delivered and waits in the dead-letter "
                    "queue: a job may be stuck until it is redriven",
                )
            },
        )

    def _log_metric_alarm(
        self,
        name: str,
        log_group: logs.ILogGroup,
        pattern: logs.IFilterPattern,
        *,
        title: str,
        description: str,
    ) -> None:
        """Count the log events matching `pattern` as metric `name` of the stack's namespace; alarm on any."""
        metric_filter = logs.MetricFilter(
            self,
            f"{name}Filter",
            log_group=log_group,
            filter_pattern=pattern,
            metric_namespace=self.namespace,
            metric_name=name,
            metric_value="1",
        )
        metric = metric_filter.metric(statistic=cloudwatch.Stats.SUM, period=self.PERIOD, label=title)
        self.facade.monitor_custom(
            alarm_friendly_name=name,
            human_readable_name=title,
            metric_groups=[
                CustomMetricGroup(
                    title=title,
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=metric,
                            alarm_friendly_name=name,
                            add_alarm={
                                SEVERITY: CustomThreshold(
                                    threshold=0,
                                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                                    alarm_description_override=description,
                                )
                            },
                        )
                    ],
                )
            ],
        )


def _any(description: str, *, periods: int = 1) -> ErrorCountThreshold:
    """Alarm when the count is above zero (in `periods` periods in a row)."""
    return ErrorCountThreshold(
        max_error_count=0,
        datapoints_to_alarm=periods,
        evaluation_periods=periods,
        alarm_description_override=description,
    )
