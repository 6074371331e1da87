"""Event-driven waits: a state machine stores a task token, a service event resumes it (no polling Lambda).

Any workflow uses `WaitRegister` through `lambda:invoke.waitForTaskToken`; `WaitResume` receives the service's
EventBridge events. A workflow that waits for a service adds one rule with `add_resume_rule` and grants the
wait functions what its waiter's check reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.platform import constants, nag, permissions
from stacks.platform.job_store import JobStore
from stacks.platform.labels import label
from stacks.platform.lambda_functions import LambdaFactory, ServiceFunction


class EventWaits(Construct):
    """`WaitRegister`, `WaitResume`, the resume rules and their dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: LambdaFactory,
        job_store: JobStore,
        state_machine_name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {constants.ENV_JOBS_TABLE_NAME: job_store.table.table_name}
        self.register: ServiceFunction = functions.create(
            self,
            constants.WAIT_REGISTER_FUNCTION,
            environment=environment,
            description="Stores a task token in a wait record keyed by the resource, then checks the resource once",
        )
        self.resume: ServiceFunction = functions.create(
            self,
            constants.WAIT_RESUME_FUNCTION,
            environment=environment,
            description="Resumes the waiting execution when the awaited service event arrives",
        )

        # State machines of this stack are named `<stack>-<workflow>`. Naming them (instead of referencing
        # their ARN) avoids a cycle: a state machine references these functions.
        state_machines = Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"{state_machine_name_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # Wait records: put by WaitRegister; read (consistently), deleted, and put back if the outcome could
        # not be delivered, by both (WaitRegister resolves at once when the resource has already finished).
        job_store.grant(self.register.role, ["PutItem", "DeleteItem"])
        job_store.grant(self.resume.role, ["GetItem", "DeleteItem", "PutItem"])
        for wait_function in (self.register, self.resume):
            permissions.allow(
                wait_function.role,
                ["states:SendTaskSuccess", "states:SendTaskFailure"],
                [state_machines],
                reason="Task tokens may come from any state machine of this stack (named '<stack>-<workflow>').",
            )

        self.dead_letter_queue = sqs.Queue(
            self,
            "ResumeDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        label(self.dead_letter_queue, "WaitResumeDeadLetterQueue")
        nag.acknowledge(
            self.dead_letter_queue,
            "SQS3",
            "This queue is itself the dead-letter queue of the event rules' targets and the on-failure destination "
            "of the event-driven functions.",
        )
        self.rules: list[events.Rule] = []
        self.never_drop(self.resume)

        # Operators hand dead-lettered events back with this function (docs/architecture.md, "No event is lost").
        self.redrive: ServiceFunction = functions.create(
            self,
            constants.REDRIVE_FUNCTION,
            environment={
                **environment,
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                "REDRIVE_TARGETS": self.resume.function.function_arn,
            },
            description="Invoked by operators: redrives the dead-lettered events to the functions that should "
            "have handled them",
            timeout_seconds=300,
        )
        self.dead_letter_queue.grant_consume_messages(self.redrive.role)
        self._redrive_targets = [self.resume]
        self._allow_redrive()

    def never_drop(self, service_function: ServiceFunction) -> None:
        """An event-driven function: an asynchronous invocation whose two retries fail goes to the dead-letter
        queue (Lambda's on-failure destination) instead of being dropped, and can be redriven from there."""
        service_function.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )

    def add_redrive_target(self, service_function: ServiceFunction) -> None:
        """Let the redrive hand dead-lettered events back to `service_function` (an event-driven function)."""
        self.never_drop(service_function)
        self._redrive_targets.append(service_function)
        self.redrive.function.add_environment(
            "REDRIVE_TARGETS", ",".join(f.function.function_arn for f in self._redrive_targets)
        )
        self._allow_redrive()

    def _allow_redrive(self) -> None:
        self.redrive.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[self._redrive_targets[-1].function.function_arn]
            )
        )

    def add_resume_rule(
        self,
        construct_id: str,
        *,
        description: str,
        source: Sequence[str],
        detail_type: Sequence[str],
        detail: Mapping[str, Any] | None = None,
    ) -> events.Rule:
        """Route events matching (source, detail-type, detail) on the default bus to `WaitResume`.

        Failed deliveries are retried for up to two hours, then kept in the dead-letter queue.
        """
        rule = events.Rule(
            self,
            construct_id,
            description=description,
            event_pattern=events.EventPattern(
                source=list(source),
                detail_type=list(detail_type),
                detail=dict(detail) if detail else None,
            ),
            targets=[
                targets.LambdaFunction(
                    self.resume.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=20,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        label(rule, f"{constants.WAIT_RESUME_FUNCTION}Rule:{construct_id}")
        self.rules.append(rule)
        return rule
