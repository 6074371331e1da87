"""The sagestep stack: wires one construct per capability; defines no resource itself."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks import constants
from stacks.api import Api
from stacks.config import SagestepConfig
from stacks.event_waits import EventWaits
from stacks.job_store import JobStore
from stacks.lambda_functions import LambdaFactory
from stacks.monitoring import Monitoring
from stacks.notifications import Notifications
from stacks.storage import Storage
from stacks.training import Training


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
        # State machines are named `<stack>-<workflow>` so wait functions can be scoped to them.
        waits = EventWaits(
            self, "Waits", functions=functions, job_store=jobs, state_machine_name_prefix=f"{self.stack_name}-"
        )
        training = Training(
            self,
            "Training",
            config=config,
            functions=functions,
            storage=storage,
            job_store=jobs,
            notifications=notifications,
            waits=waits,
            state_machine_name=f"{self.stack_name}-training",
        )
        api = Api(
            self,
            "Api",
            config=config,
            functions=functions,
            storage=storage,
            job_store=jobs,
            training_state_machine=training.state_machine,
            sagemaker_role=training.sagemaker_role,
            training_image_uri=training.training_image_uri,
        )
        Monitoring(
            self,
            "Monitoring",
            notifications=notifications,
            state_machines={"Training": training.state_machine},
            functions=[
                api.handler,
                training.hpo_results,
                training.finish_deployment,
                training.failure,
                waits.register,
                waits.resume,
            ],
            rest_api=api.rest_api,
        )

        outputs = {
            constants.OUTPUT_API_URL: (api.rest_api.url, "Base URL of the REST API (stage included)"),
            constants.OUTPUT_USER_POOL_ID: (api.user_pool.user_pool_id, "Cognito user pool"),
            constants.OUTPUT_USER_POOL_CLIENT_ID: (
                api.user_pool_client.user_pool_client_id,
                "Cognito app client (USER_PASSWORD_AUTH, SRP)",
            ),
            constants.OUTPUT_TOPIC_ARN: (notifications.topic.topic_arn, "Job completion and failure messages"),
            constants.OUTPUT_DATA_BUCKET: (storage.data_bucket.bucket_name, "Upload training data here"),
            constants.OUTPUT_ARTIFACT_BUCKET: (storage.artifact_bucket.bucket_name, "Models and job outputs"),
            constants.OUTPUT_JOBS_TABLE: (jobs.table.table_name, "Job records"),
            constants.OUTPUT_TRAINING_STATE_MACHINE_ARN: (
                training.state_machine.state_machine_arn,
                "Training/HPO workflow",
            ),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
