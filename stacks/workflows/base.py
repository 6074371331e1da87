"""The base of every workflow construct: its state machine from `statemachines/<name>.asl.json`, the state
machine's role, logging ALL + X-Ray, its task functions, and what it registers with the platform.

A workflow subclass creates its own resources and task functions, calls `build_state_machine` once, and
says what the platform's shared parts need of it:
- `api_environment` and `grant_api` — what the `Api` function needs to serve the workflow's `ROUTES`;
- `grant_cleanup` — what the safety net's function needs to clean up one of its abandoned jobs.

The platform's monitoring watches the state machine, its log group (`state_machine_logs`: executions that failed
with another error than one of its failure path's `Fail` states, `failure_path_errors`) and, through the
factory that created them, its task functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.platform import asl, constants, nag, permissions
from stacks.platform.config import SagestepConfig
from stacks.platform.event_waits import EventWaits
from stacks.platform.job_store import JobStore
from stacks.platform.labels import label
from stacks.platform.lambda_functions import LambdaFactory, ServiceFunction
from stacks.platform.notifications import Notifications
from stacks.platform.storage import Storage


@dataclass(frozen=True)
class Platform:
    """The shared constructs a workflow builds on."""

    config: SagestepConfig
    storage: Storage
    job_store: JobStore
    notifications: Notifications
    functions: LambdaFactory
    waits: EventWaits


class Workflow(Construct):
    """One workflow: `NAME` names its ASL file, its state machine (`<stack>-<NAME>`) and its Lambda package."""

    NAME: ClassVar[str]
    #: Job kinds (the first word of their job ids) the workflow's API routes create.
    KINDS: ClassVar[tuple[str, ...]]
    #: (method, path) of the workflow's API routes, served by the platform's `Api` function.
    ROUTES: ClassVar[tuple[tuple[str, str], ...]]

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id)
        self.platform = platform
        self.state_machine: sfn.StateMachine
        self.state_machine_logs: logs.LogGroup
        #: The `Error` of every `Fail` state of the ASL: how the workflow's failure path ends an execution.
        self.failure_path_errors: frozenset[str] = frozenset()

    @property
    def state_machine_name(self) -> str:
        """`<stack>-<workflow>`: the platform's wait and safety-net functions are scoped to this prefix."""
        return f"{Stack.of(self).stack_name}-{self.NAME}"

    @property
    def title(self) -> str:
        return self.NAME.capitalize()

    def task_function(
        self,
        name: str,
        *,
        handler: str,
        description: str,
        environment: Mapping[str, str] | None = None,
        timeout_seconds: int = 60,
        memory_size: int = 256,
    ) -> ServiceFunction:
        """A task function of the workflow's state machine (the jobs table is always in its environment)."""
        return self.platform.functions.create(
            self,
            name,
            handler=handler,
            description=description,
            environment={
                constants.ENV_JOBS_TABLE_NAME: self.platform.job_store.table.table_name,
                **(environment or {}),
            },
            timeout_seconds=timeout_seconds,
            memory_size=memory_size,
        )

    def build_state_machine(self, substitutions: Mapping[str, str], *, invokes: list[ServiceFunction]) -> iam.Role:
        """The state machine from `statemachines/<NAME>.asl.json`, expanded (`asl.load_definition`: its status
        writes become DynamoDB updates), with the platform's substitutions
        (`JobsTableName`, `TopicArn`, `WaitRegisterFunctionArn`) and the workflow's own; its role may update
        job records, publish the job's notification and invoke `invokes` and `WaitRegister`. The caller grants
        the returned role the service integrations its ASL uses; the state machine is `self.state_machine`."""
        platform = self.platform
        name = self.state_machine_name
        arn = Stack.of(self).format_arn(
            service="states", resource="stateMachine", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}, "ArnLike": {"aws:SourceArn": arn}},
            ),
            description=f"sagestep {self.NAME} state machine",
        )
        platform.job_store.grant_update_item(role)
        platform.notifications.grant_publish(role)
        permissions.allow(
            role,
            ["lambda:InvokeFunction"],
            [f.function.function_arn for f in (*invokes, platform.waits.register)],
        )
        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            # Step Functions recommends the /aws/vendedlogs/ prefix (keeps the log resource policy small).
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=platform.config.log_retention,
            encryption_key=platform.storage.key,
            removal_policy=platform.config.removal_policy,
        )
        state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(asl.definition_string(self.NAME)),
            definition_substitutions={
                constants.SUB_JOBS_TABLE_NAME: platform.job_store.table.table_name,
                constants.SUB_TOPIC_ARN: platform.notifications.topic.topic_arn,
                constants.SUB_WAIT_REGISTER_ARN: platform.waits.register.function.function_arn,
                **substitutions,
            },
            role=role,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            removal_policy=platform.config.removal_policy,
        )
        label(state_machine, f"{self.title}StateMachine")
        nag.acknowledge(
            role,
            "IAM5",
            "Added by the CDK for logging and tracing: CloudWatch Logs delivery actions "
            "(logs:CreateLogDelivery, ...) and X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level "
            "permissions.",
            "Resource::*",
        )
        self.state_machine = state_machine
        self.state_machine_logs = log_group
        self.failure_path_errors = frozenset(
            state["Error"]
            for state in _states(asl.load_definition(self.NAME))
            if state["Type"] == "Fail" and "Error" in state
        )
        return role

    # Registration points ------------------------------------------------------------------------------

    @property
    def api_environment(self) -> dict[str, str]:
        """Environment variables the `Api` function needs for this workflow's routes."""
        return {}

    @property
    def dead_letter_queues(self) -> list[sqs.IQueue]:
        """The workflow's own dead-letter queues: a message in one raises the operator alarm."""
        return []

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        """Stack outputs beyond `<Name>StateMachineArn`: output name -> (value, description)."""
        return {}

    def grant_api(self, role: iam.Role) -> None:
        """Let the `Api` function serve this workflow's routes."""

    def grant_cleanup(self, role: iam.Role) -> None:
        """Let the safety net's function clean up one of this workflow's abandoned jobs."""


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every state of an ASL definition, those of Parallel branches and Map item processors included."""
    for state in definition.get("States", {}).values():
        yield state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _states(state[key])
