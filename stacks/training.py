"""Workflow 1: training, HPO and endpoints (`statemachines/training.asl.json`)."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks import constants, nag, permissions
from stacks.config import SagestepConfig
from stacks.event_waits import EventWaits
from stacks.job_store import JobStore
from stacks.labels import label
from stacks.lambda_functions import LambdaFactory, ServiceFunction
from stacks.notifications import Notifications
from stacks.storage import Storage

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)

# SageMaker resource types -> the job-id prefixes of the names sagestep gives them.
TRAINING_JOBS = {"training-job": constants.JOB_NAME_PREFIXES}
TUNING_JOBS = {"hyper-parameter-tuning-job": (f"{constants.JOB_KIND_HPO}-",)}
MODELS = {"model": constants.ENDPOINT_NAME_PREFIXES}
ENDPOINT_CONFIGS = {"endpoint-config": constants.ENDPOINT_NAME_PREFIXES}
ENDPOINTS = {"endpoint": constants.ENDPOINT_NAME_PREFIXES}


class Training(Construct):
    """The SageMaker execution role, the training image, the task functions and the state machine.

    The `Api` function builds each job's plan (the exact SageMaker requests); the state machine only
    orchestrates them, so it holds the SageMaker create permissions and the task functions hold the rest.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SagestepConfig,
        functions: LambdaFactory,
        storage: Storage,
        job_store: JobStore,
        notifications: Notifications,
        waits: EventWaits,
        state_machine_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name

        self.sagemaker_role = self._sagemaker_execution_role(storage)
        self.training_image_uri = self._training_image(config)

        table_env = {constants.ENV_JOBS_TABLE_NAME: job_store.table.table_name}
        self.hpo_results = functions.create(
            self,
            constants.TRAINING_HPO_RESULTS_FUNCTION,
            description="Records the best hyperparameters, objective and trials of an HPO job",
            environment={**table_env, constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name},
        )
        job_store.grant(self.hpo_results.role, ["UpdateItem"])
        storage.grant_read(self.hpo_results.role, storage.artifact_bucket, "hpo_results.json of the HPO job")
        permissions.allow_sagemaker(
            self.hpo_results.role,
            ["DescribeHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob"],
            TUNING_JOBS,
        )

        self.finish_deployment = functions.create(
            self,
            constants.TRAINING_FINISH_DEPLOYMENT_FUNCTION,
            description="After the new endpoint is InService: evicts the oldest endpoints beyond the maximum "
            "or hands an updated endpoint over",
            environment={
                **table_env,
                constants.ENV_MAX_ENDPOINTS: str(config.max_endpoints),
                constants.ENV_STACK_NAME: stack_name,
            },
        )
        job_store.grant(self.finish_deployment.role, ["GetItem", "UpdateItem"])
        self._allow_endpoint_cleanup(self.finish_deployment)
        permissions.allow_sagemaker(self.finish_deployment.role, ["DescribeTrainingJob"], TRAINING_JOBS)
        permissions.allow(
            self.finish_deployment.role,
            ["sagemaker:ListEndpoints"],
            ["*"],
            reason="sagemaker:ListEndpoints has no resource-level permissions; eviction then keeps only "
            "endpoints with sagestep's name prefix and this stack's sagestep:stack tag.",
        )

        self.failure = functions.create(
            self,
            constants.TRAINING_FAILURE_FUNCTION,
            description="Explains a failed job (error and cause on the record) and removes what it created",
            environment={**table_env, constants.ENV_STACK_NAME: stack_name},
        )
        job_store.grant(self.failure.role, ["UpdateItem"])  # ends a failed update's endpoint reservation
        self._allow_endpoint_cleanup(self.failure)
        permissions.allow_sagemaker(self.failure.role, ["DeleteModel"], MODELS)
        self._allow_job_stop(self.failure)

        self.state_machine = self._state_machine(config, state_machine_name, storage, job_store, notifications, waits)
        self._close_abandoned_jobs(functions, job_store, notifications, waits, stack_name)

    def _close_abandoned_jobs(
        self,
        functions: LambdaFactory,
        job_store: JobStore,
        notifications: Notifications,
        waits: EventWaits,
        stack_name: str,
    ) -> None:
        """A safety net for executions that end outside the state machine's own failure path (stopped by
        hand, timed out, a runtime error no Catch can see): their jobs still get ERROR, cleanup and the one
        notification."""
        self.execution_closed = functions.create(
            self,
            constants.TRAINING_EXECUTION_CLOSED_FUNCTION,
            description="Records ERROR, cleans up and notifies for a job whose execution ended while it ran",
            environment={
                constants.ENV_JOBS_TABLE_NAME: job_store.table.table_name,
                constants.ENV_TOPIC_ARN: notifications.topic.topic_arn,
                constants.ENV_STACK_NAME: stack_name,
            },
        )
        job_store.grant(self.execution_closed.role, ["GetItem", "UpdateItem"])
        notifications.grant_publish(self.execution_closed.role)
        self._allow_endpoint_cleanup(self.execution_closed)
        permissions.allow_sagemaker(self.execution_closed.role, ["DeleteModel"], MODELS)
        self._allow_job_stop(self.execution_closed)
        rule = events.Rule(
            self,
            "ExecutionClosed",
            description="Training executions that failed, timed out or were aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.execution_closed.function,
                    dead_letter_queue=waits.dead_letter_queue,
                    retry_attempts=20,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        label(rule, "TrainingExecutionClosedRule")

    @staticmethod
    def _allow_endpoint_cleanup(service_function: ServiceFunction) -> None:
        # No aws:ResourceTag condition on the deletes: deleting an already deleted resource must fail as
        # "not found" (which the code treats as done), not as AccessDenied. The code reads the
        # sagestep:stack tag itself before it evicts an endpoint.
        role = service_function.role
        permissions.allow_sagemaker(role, ["DescribeEndpoint", "ListTags", "DeleteEndpoint"], ENDPOINTS)
        permissions.allow_sagemaker(role, ["DeleteEndpointConfig"], ENDPOINT_CONFIGS)

    @staticmethod
    def _allow_job_stop(service_function: ServiceFunction) -> None:
        """Failure cleanup stops the run's own training or tuning job if it still runs."""
        permissions.allow_sagemaker(service_function.role, ["DescribeTrainingJob", "StopTrainingJob"], TRAINING_JOBS)
        permissions.allow_sagemaker(
            service_function.role,
            ["DescribeHyperParameterTuningJob", "StopHyperParameterTuningJob"],
            TUNING_JOBS,
        )

    def _sagemaker_execution_role(self, storage: Storage) -> iam.Role:
        role = iam.Role(
            self,
            "SageMakerExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="sagestep training jobs, tuning jobs and endpoints",
        )
        label(role, "SageMakerExecutionRole")
        storage.grant_read(role, storage.data_bucket, "training data")
        storage.grant_read_write(role, storage.artifact_bucket, "model artifacts and outputs")
        stack = Stack.of(self)
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        permissions.allow(
            role,
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [log_groups, f"{log_groups}:log-stream:*"],
            reason="SageMaker writes training and endpoint logs to log groups and streams it creates under "
            "/aws/sagemaker/.",
        )
        permissions.allow(
            role,
            ["cloudwatch:PutMetricData"],
            ["*"],
            reason="cloudwatch:PutMetricData has no resource-level permissions; limited to SageMaker's "
            "namespaces by condition.",
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        )
        allow_describe_rollback_alarms(role)
        return role

    def _training_image(self, config: SagestepConfig) -> str:
        """Image URI for training and serving; the role may pull it."""
        if config.training_image_uri:
            match = _ECR_IMAGE.match(config.training_image_uri)
            if match:
                repository_arn = Stack.of(self).format_arn(
                    service="ecr",
                    account=match["account"],
                    region=match["region"],
                    resource="repository",
                    resource_name=match["repo"],
                )
                self._allow_image_pull(repository_arn)
            return config.training_image_uri
        image = ecr_assets.DockerImageAsset(
            self,
            "TrainingImage",
            directory=str(constants.TRAINING_CONTAINER_DIR),
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=constants.ASSET_EXCLUDES,
        )
        self._allow_image_pull(image.repository.repository_arn)
        return image.image_uri

    def _allow_image_pull(self, repository_arn: str) -> None:
        permissions.allow(
            self.sagemaker_role,
            ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            [repository_arn],
        )
        permissions.allow(
            self.sagemaker_role,
            ["ecr:GetAuthorizationToken"],
            ["*"],
            reason="ecr:GetAuthorizationToken has no resource-level permissions.",
        )

    def _state_machine(
        self,
        config: SagestepConfig,
        name: str,
        storage: Storage,
        job_store: JobStore,
        notifications: Notifications,
        waits: EventWaits,
    ) -> sfn.StateMachine:
        stack = Stack.of(self)
        arn = stack.format_arn(
            service="states", resource="stateMachine", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": arn},
                },
            ),
            description="sagestep training state machine",
        )
        self._grant_state_machine(role, job_store, notifications, waits)

        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            # Step Functions recommends the /aws/vendedlogs/ prefix (keeps the log resource policy small).
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=config.log_retention,
            encryption_key=storage.key,
            removal_policy=config.removal_policy,
        )
        state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(constants.TRAINING_ASL_FILE.read_text(encoding="utf-8")),
            definition_substitutions={
                constants.SUB_JOBS_TABLE_NAME: job_store.table.table_name,
                constants.SUB_TOPIC_ARN: notifications.topic.topic_arn,
                constants.SUB_TRAINING_HPO_RESULTS_ARN: self.hpo_results.function.function_arn,
                constants.SUB_TRAINING_FINISH_DEPLOYMENT_ARN: self.finish_deployment.function.function_arn,
                constants.SUB_TRAINING_FAILURE_ARN: self.failure.function.function_arn,
                constants.SUB_WAIT_REGISTER_ARN: waits.register.function.function_arn,
                constants.SUB_SAGEMAKER_ROLE_ARN: self.sagemaker_role.role_arn,
            },
            role=role,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            removal_policy=config.removal_policy,
        )
        label(state_machine, "TrainingStateMachine")
        nag.acknowledge(
            role,
            "IAM5",
            "Added by the CDK for logging and tracing: CloudWatch Logs delivery actions "
            "(logs:CreateLogDelivery, ...) and X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level "
            "permissions.",
            "Resource::*",
        )
        return state_machine

    def _grant_state_machine(
        self, role: iam.Role, job_store: JobStore, notifications: Notifications, waits: EventWaits
    ) -> None:
        """Every integration of training.asl.json (docs/architecture.md, 'State machine')."""
        stack = Stack.of(self)
        # createTrainingJob.sync / createHyperParameterTuningJob.sync (+ the Describe/Stop/ListTags that .sync
        # uses), createModel, createEndpointConfig, createEndpoint, updateEndpoint; Tags in requests need AddTags.
        permissions.allow_sagemaker(
            role, ["CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob", "AddTags", "ListTags"], TRAINING_JOBS
        )
        permissions.allow_sagemaker(
            role,
            [
                "CreateHyperParameterTuningJob",
                "DescribeHyperParameterTuningJob",
                "StopHyperParameterTuningJob",
                "AddTags",
                "ListTags",
            ],
            TUNING_JOBS,
        )
        permissions.allow_sagemaker(role, ["CreateModel", "AddTags", "ListTags"], MODELS)
        permissions.allow_sagemaker(role, ["CreateEndpointConfig", "AddTags", "ListTags"], ENDPOINT_CONFIGS)
        # CreateEndpoint / UpdateEndpoint are authorized on both the endpoint and the endpoint config.
        permissions.allow_sagemaker(
            role,
            ["CreateEndpoint", "UpdateEndpoint", "AddTags", "ListTags"],
            {**ENDPOINTS, **ENDPOINT_CONFIGS},
        )
        permissions.allow(
            role,
            ["iam:PassRole"],
            [self.sagemaker_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
        # `.sync` integrations manage these rules in the account (AWS-managed names).
        permissions.allow(
            role,
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [
                stack.format_arn(service="events", resource="rule", resource_name=rule)
                for rule in (constants.SFN_SAGEMAKER_TRAINING_RULE, constants.SFN_SAGEMAKER_TUNING_RULE)
            ],
        )
        permissions.allow(
            role,
            ["lambda:InvokeFunction"],
            [
                task.function.function_arn
                for task in (self.hpo_results, self.finish_deployment, self.failure, waits.register)
            ],
        )
        allow_describe_rollback_alarms(role)
        job_store.grant_update_item(role)
        notifications.grant_publish(role)


def allow_describe_rollback_alarms(role: iam.Role) -> None:
    """In-place updates may name a CloudWatch alarm for automatic rollback (deployment guardrails)."""
    alarms = Stack.of(role).format_arn(
        service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
    permissions.allow(
        role,
        ["cloudwatch:DescribeAlarms"],
        [alarms],
        reason="An in-place update names a user-chosen CloudWatch alarm of this account and region for automatic "
        "rollback; reading alarm state is all that is allowed.",
    )
