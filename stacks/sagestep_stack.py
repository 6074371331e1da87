"""The sagestep stack: wires the platform's constructs and the registered workflows; defines no resource itself."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks.platform import constants
from stacks.platform.api import Api
from stacks.platform.config import SagestepConfig
from stacks.platform.event_waits import EventWaits
from stacks.platform.job_store import JobStore
from stacks.platform.lambda_functions import LambdaFactory
from stacks.platform.monitoring import Monitoring
from stacks.platform.notifications import Notifications
from stacks.platform.operator_topic import OperatorTopic
from stacks.platform.safety_net import SafetyNet
from stacks.platform.storage import Storage
from stacks.workflows import WORKFLOWS
from stacks.workflows.base import Platform


class SagestepStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = SagestepConfig.from_context(self)
        Tags.of(self).add(constants.TAG_APP, constants.APP_NAME)
        Tags.of(self).add(constants.TAG_STACK, self.stack_name)

        storage = Storage(self, "Storage", config=config)
        jobs = JobStore(self, "Jobs", config=config, key=storage.key)
        notifications = Notifications(self, "Notifications", key=storage.key)
        functions = LambdaFactory(self, "Functions", config=config, key=storage.key)
        # State machines are named `<stack>-<workflow>` so the wait and safety-net functions can be scoped to them.
        prefix = f"{self.stack_name}-"
        waits = EventWaits(self, "Waits", functions=functions, job_store=jobs, state_machine_name_prefix=prefix)
        platform = Platform(
            config=config,
            storage=storage,
            job_store=jobs,
            notifications=notifications,
            functions=functions,
            waits=waits,
        )
        workflows = [workflow(self, workflow.NAME.capitalize(), platform=platform) for workflow in WORKFLOWS]

        api = Api(self, "Api", config=config, functions=functions, storage=storage, job_store=jobs, workflows=workflows)
        safety_net = SafetyNet(
            self,
            "SafetyNet",
            functions=functions,
            job_store=jobs,
            notifications=notifications,
            waits=waits,
            state_machine_name_prefix=prefix,
            workflows=workflows,
        )
        operators = OperatorTopic(self, "Operators", config=config)
        Monitoring(
            self,
            "Monitoring",
            operator_topic=operators,
            workflows=workflows,
            functions=functions.created,
            safety_net=safety_net.function,
            rest_api=api.rest_api,
            job_table=jobs.table,
            dead_letter_queues=[waits.dead_letter_queue, *(q for w in workflows for q in w.dead_letter_queues)],
        )

        outputs = {
            constants.OUTPUT_API_URL: (api.rest_api.url, "Base URL of the REST API (stage included)"),
            constants.OUTPUT_USER_POOL_ID: (api.user_pool.user_pool_id, "Cognito user pool"),
            constants.OUTPUT_USER_POOL_CLIENT_ID: (
                api.user_pool_client.user_pool_client_id,
                "Cognito app client (USER_PASSWORD_AUTH, SRP)",
            ),
            constants.OUTPUT_TOPIC_ARN: (notifications.topic.topic_arn, "Job completion and failure messages"),
            constants.OUTPUT_OPERATOR_TOPIC_ARN: (operators.topic.topic_arn, "Alarms of the stack, for operators"),
            constants.OUTPUT_DATA_BUCKET: (storage.data_bucket.bucket_name, "Upload training data here"),
            constants.OUTPUT_ARTIFACT_BUCKET: (storage.artifact_bucket.bucket_name, "Models and job outputs"),
            constants.OUTPUT_JOBS_TABLE: (jobs.table.table_name, "Job records"),
            constants.OUTPUT_REDRIVE_FUNCTION: (
                waits.redrive.function.function_name,
                "Invoke to redrive dead-lettered events (docs/architecture.md, 'No event is lost')",
            ),
        }
        for workflow in workflows:
            outputs[f"{workflow.title}StateMachineArn"] = (
                workflow.state_machine.state_machine_arn,
                f"The {workflow.NAME} workflow's state machine",
            )
            outputs.update(workflow.outputs)
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
