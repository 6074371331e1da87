"""Workflow 1, training: train, tune (HPO), deploy and query models (`statemachines/training.asl.json`)."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.platform import constants, permissions
from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label
from stacks.platform.storage import Storage
from stacks.workflows.base import Platform, Workflow

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)

# Task functions: logical name -> handler (docs/architecture.md, "Lambda functions").
HPO_RESULTS_FUNCTION = "TrainingHpoResults"
FINISH_DEPLOYMENT_FUNCTION = "TrainingFinishDeployment"
FAILURE_FUNCTION = "TrainingFailure"
_HANDLERS = "sagestep_service.workflows.training.handlers"
HANDLERS = {
    HPO_RESULTS_FUNCTION: f"{_HANDLERS}.record_hpo_results",
    FINISH_DEPLOYMENT_FUNCTION: f"{_HANDLERS}.finish_deployment",
    FAILURE_FUNCTION: f"{_HANDLERS}.on_failure",
}

# Environment variables of the training functions and of the `Api` function's training routes.
ENV_STATE_MACHINE_ARN = "TRAINING_STATE_MACHINE_ARN"
ENV_SAGEMAKER_ROLE_ARN = "SAGEMAKER_ROLE_ARN"
ENV_TRAINING_IMAGE_URI = "TRAINING_IMAGE_URI"
ENV_TRAINING_INSTANCE_TYPE = "TRAINING_INSTANCE_TYPE"
ENV_ENDPOINT_INSTANCE_TYPE = "ENDPOINT_INSTANCE_TYPE"
ENV_MAX_ENDPOINTS = "MAX_ENDPOINTS"
ENV_ENDPOINT_DEADLINE_SECONDS = "ENDPOINT_DEADLINE_SECONDS"

# DefinitionSubstitutions of training.asl.json beyond the platform's.
SUB_HPO_RESULTS_ARN = "TrainingHpoResultsFunctionArn"
SUB_FINISH_DEPLOYMENT_ARN = "TrainingFinishDeploymentFunctionArn"
SUB_FAILURE_ARN = "TrainingFailureFunctionArn"
SUB_SAGEMAKER_ROLE_ARN = "SageMakerRoleArn"

# Job ids are the names of the SageMaker resources a job creates; IAM scopes SageMaker by these prefixes.
JOB_KIND_MODEL = "model"
JOB_KIND_HPO = "hpo"
JOB_NAME_PREFIXES = (f"{JOB_KIND_MODEL}-", f"{JOB_KIND_HPO}-")
# Only training jobs (`POST /model`) create models, endpoint configs and endpoints.
ENDPOINT_NAME_PREFIXES = (f"{JOB_KIND_MODEL}-",)

# SageMaker resource types -> the job-id prefixes of the names sagestep gives them.
TRAINING_JOBS = {"training-job": JOB_NAME_PREFIXES}
TUNING_JOBS = {"hyper-parameter-tuning-job": (f"{JOB_KIND_HPO}-",)}
MODELS = {"model": ENDPOINT_NAME_PREFIXES}
ENDPOINT_CONFIGS = {"endpoint-config": ENDPOINT_NAME_PREFIXES}
ENDPOINTS = {"endpoint": ENDPOINT_NAME_PREFIXES}

# Step Functions-managed EventBridge rules used by `.sync` SageMaker integrations.
SFN_SAGEMAKER_TRAINING_RULE = "StepFunctionsGetEventsForSageMakerTrainingJobsRule"
SFN_SAGEMAKER_TUNING_RULE = "StepFunctionsGetEventsForSageMakerTuningJobsRule"

# The endpoint waits' events.
SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
SAGEMAKER_ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"

OUTPUT_STATE_MACHINE_ARN = "TrainingStateMachineArn"


class Training(Workflow):
    """The SageMaker execution role, the training image, the task functions and the state machine.

    The `Api` function builds each job's plan (the exact SageMaker requests); the state machine only
    orchestrates them, so it holds the SageMaker create permissions and the task functions hold the rest.
    """

    NAME = "training"
    KINDS = (JOB_KIND_MODEL, JOB_KIND_HPO)
    ROUTES = (
        ("POST", "/model"),
        ("GET", "/model"),
        ("GET", "/model/{jobId}"),
        ("DELETE", "/model/{jobId}"),
        ("POST", "/hpo"),
        ("GET", "/hpo"),
        ("GET", "/hpo/{jobId}"),
        ("POST", "/infer"),
    )

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id, platform=platform)
        config, storage, job_store = platform.config, platform.storage, platform.job_store
        stack_name = Stack.of(self).stack_name

        self.sagemaker_role = self._sagemaker_execution_role(storage)
        self.training_image_uri = self._training_image(config)

        self.hpo_results = self.task_function(
            HPO_RESULTS_FUNCTION,
            handler=HANDLERS[HPO_RESULTS_FUNCTION],
            description="Records the best hyperparameters, objective and trials of an HPO job",
            environment={constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name},
        )
        job_store.grant(self.hpo_results.role, ["UpdateItem"])
        storage.grant_read(self.hpo_results.role, storage.artifact_bucket, "hpo_results.json of the HPO job")
        permissions.allow_sagemaker(
            self.hpo_results.role,
            ["DescribeHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob"],
            TUNING_JOBS,
        )

        self.finish_deployment = self.task_function(
            FINISH_DEPLOYMENT_FUNCTION,
            handler=HANDLERS[FINISH_DEPLOYMENT_FUNCTION],
            description="After the new endpoint is InService: hands an updated endpoint over or evicts the "
            "oldest endpoints beyond the maximum, then records the metrics",
            environment={ENV_MAX_ENDPOINTS: str(config.max_endpoints), constants.ENV_STACK_NAME: stack_name},
        )
        job_store.grant(self.finish_deployment.role, ["GetItem", "UpdateItem"])
        self._allow_endpoint_cleanup(self.finish_deployment.role)
        permissions.allow_sagemaker(self.finish_deployment.role, ["DescribeTrainingJob"], TRAINING_JOBS)
        # An evicted endpoint, or the previous job's resources after a hand-over, go with their endpoint config
        # (read for its models) and model.
        permissions.allow_sagemaker(self.finish_deployment.role, ["DescribeEndpointConfig"], ENDPOINT_CONFIGS)
        permissions.allow_sagemaker(self.finish_deployment.role, ["DeleteModel"], MODELS)
        permissions.allow(
            self.finish_deployment.role,
            ["sagemaker:ListEndpoints"],
            ["*"],
            reason="sagemaker:ListEndpoints has no resource-level permissions; eviction then keeps only "
            "endpoints with sagestep's name prefix and this stack's sagestep:stack tag.",
        )

        self.failure = self.task_function(
            FAILURE_FUNCTION,
            handler=HANDLERS[FAILURE_FUNCTION],
            description="Explains a failed job (error and cause on the record) and removes what it created",
            environment={constants.ENV_STACK_NAME: stack_name},
        )
        self.grant_cleanup(self.failure.role)

        role = self.build_state_machine(
            {
                SUB_HPO_RESULTS_ARN: self.hpo_results.function.function_arn,
                SUB_FINISH_DEPLOYMENT_ARN: self.finish_deployment.function.function_arn,
                SUB_FAILURE_ARN: self.failure.function.function_arn,
                SUB_SAGEMAKER_ROLE_ARN: self.sagemaker_role.role_arn,
            },
            invokes=[self.hpo_results, self.finish_deployment, self.failure],
        )
        self._grant_state_machine(role)
        self._wait_for_endpoints()

    def _wait_for_endpoints(self) -> None:
        """Endpoint deployments wait for SageMaker's endpoint state change events (platform waits)."""
        waits = self.platform.waits
        waits.add_resume_rule(
            "SageMakerEndpointStateChange",
            description="SageMaker endpoint state changes of sagestep endpoints resume waiting executions",
            source=[SAGEMAKER_EVENT_SOURCE],
            detail_type=[SAGEMAKER_ENDPOINT_STATE_CHANGE],
            detail={
                "EndpointName": [{"prefix": prefix} for prefix in ENDPOINT_NAME_PREFIXES],
                # Only the states that end a wait: CREATING/UPDATING/DELETING events would invoke for nothing.
                "EndpointStatus": ["IN_SERVICE", "FAILED", "UPDATE_ROLLBACK_FAILED", "OUT_OF_SERVICE"],
            },
        )
        # After storing the token, WaitRegister checks the endpoint once (the event may have come first);
        # WaitResume reads it when an event is ambiguous (InService on another config than the update's).
        for wait_function in (waits.register, waits.resume):
            permissions.allow_sagemaker(wait_function.role, ["DescribeEndpoint"], ENDPOINTS)

    # Registration points ------------------------------------------------------------------------------

    @property
    def api_environment(self) -> dict[str, str]:
        config, storage = self.platform.config, self.platform.storage
        return {
            ENV_STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name,
            ENV_SAGEMAKER_ROLE_ARN: self.sagemaker_role.role_arn,
            ENV_TRAINING_IMAGE_URI: self.training_image_uri,
            ENV_TRAINING_INSTANCE_TYPE: config.training_instance_type,
            ENV_ENDPOINT_INSTANCE_TYPE: config.endpoint_instance_type,
            ENV_ENDPOINT_DEADLINE_SECONDS: str(config.endpoint_deadline_seconds),
        }

    def grant_api(self, role: iam.Role) -> None:
        storage = self.platform.storage
        # Submission checks the data location (list, then the first bytes of one CSV for its header) and writes
        # the one-file manifest of a job trained on a file.
        storage.grant_read(role, storage.data_bucket, "header check of the training data at submission")
        storage.grant_put(role, storage.artifact_bucket, "jobs/*/input/*", "input manifests of training jobs")
        permissions.allow(role, ["states:StartExecution"], [self.state_machine.state_machine_arn])
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        permissions.allow(
            role,
            ["states:DescribeExecution"],
            [executions],
            reason="Executions are named by job id at run time; limited to executions of the training state machine.",
        )
        # POST /infer (an endpoint named by the caller is checked by its tags first), and DELETE
        # /model/{jobId}: endpoint, endpoint config, then model (hierarchical delete).
        permissions.allow_sagemaker(
            role, ["InvokeEndpoint", "DescribeEndpoint", "ListTags", "DeleteEndpoint"], ENDPOINTS
        )
        permissions.allow_sagemaker(role, ["DeleteEndpointConfig"], ENDPOINT_CONFIGS)
        permissions.allow_sagemaker(role, ["DeleteModel"], MODELS)

    def grant_cleanup(self, role: iam.Role) -> None:
        """Failure cleanup (TrainingFailure and the safety net): stop the run's training or tuning job if it
        still runs, delete its endpoint, endpoint config and model."""
        self._allow_endpoint_cleanup(role)
        permissions.allow_sagemaker(role, ["DeleteModel"], MODELS)
        permissions.allow_sagemaker(role, ["DescribeTrainingJob", "StopTrainingJob"], TRAINING_JOBS)
        permissions.allow_sagemaker(
            role, ["DescribeHyperParameterTuningJob", "StopHyperParameterTuningJob"], TUNING_JOBS
        )
        # A failed in-place update gives the previous job's endpoint back (its reservation ends).
        self.platform.job_store.grant(role, ["UpdateItem"])

    @staticmethod
    def _allow_endpoint_cleanup(role: iam.Role) -> None:
        # No aws:ResourceTag condition on the deletes: deleting an already deleted resource must fail as
        # "not found" (which the code treats as done), not as AccessDenied. The code reads the
        # sagestep:stack tag itself before it evicts an endpoint.
        permissions.allow_sagemaker(role, ["DescribeEndpoint", "ListTags", "DeleteEndpoint"], ENDPOINTS)
        permissions.allow_sagemaker(role, ["DeleteEndpointConfig"], ENDPOINT_CONFIGS)

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
            directory=str(constants.CONTAINERS_DIR / "training"),
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

    def _grant_state_machine(self, role: iam.Role) -> None:
        """The SageMaker integrations of training.asl.json (docs/architecture.md, 'State machine'); the base
        granted the job table, the topic and the Lambda invocations."""
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
                for rule in (SFN_SAGEMAKER_TRAINING_RULE, SFN_SAGEMAKER_TUNING_RULE)
            ],
        )
        allow_describe_rollback_alarms(role)


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
