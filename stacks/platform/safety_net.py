"""The safety net: one rule for every state machine of the stack, dispatched by job kind.

An execution that ends FAILED, TIMED_OUT or ABORTED outside its state machine's failure path (stopped by hand,
a runtime error no Catch can see, a timeout) still gets its job ERROR, its workflow's cleanup and the one
notification (`sagestep_service.platform.safety_net`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from stacks.platform import constants
from stacks.platform.event_waits import EventWaits
from stacks.platform.job_store import JobStore
from stacks.platform.labels import label
from stacks.platform.lambda_functions import LambdaFactory, ServiceFunction
from stacks.platform.notifications import Notifications
from stacks.workflows.base import Workflow


class SafetyNet(Construct):
    """`ExecutionClosed` and its rule on the status changes of every `<stack>-*` state machine."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: LambdaFactory,
        job_store: JobStore,
        notifications: Notifications,
        waits: EventWaits,
        state_machine_name_prefix: str,
        workflows: Sequence[Workflow],
    ) -> None:
        super().__init__(scope, construct_id)
        self.function: ServiceFunction = functions.create(
            self,
            constants.EXECUTION_CLOSED_FUNCTION,
            description="Records ERROR, cleans up (through the job's workflow) and notifies for a job whose "
            "execution ended while it ran",
            environment={
                constants.ENV_JOBS_TABLE_NAME: job_store.table.table_name,
                constants.ENV_TOPIC_ARN: notifications.topic.topic_arn,
                constants.ENV_STACK_NAME: Stack.of(self).stack_name,
            },
        )
        job_store.grant(self.function.role, ["GetItem", "UpdateItem"])
        notifications.grant_publish(self.function.role)
        for workflow in workflows:
            workflow.grant_cleanup(self.function.role)
        waits.add_redrive_target(self.function)

        state_machines = Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=state_machine_name_prefix,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="Executions of this stack's state machines that failed, timed out or were aborted",
            event_pattern=events.EventPattern(
                source=[constants.STEP_FUNCTIONS_EVENT_SOURCE],
                detail_type=[constants.EXECUTION_STATUS_CHANGE],
                detail={
                    "stateMachineArn": [{"prefix": state_machines}],
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    dead_letter_queue=waits.dead_letter_queue,
                    retry_attempts=20,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        label(self.rule, "ExecutionClosedRule")
