"""Names shared by the constructs (see docs/architecture.md for the contracts behind them)."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "sagestep"
DEFAULT_STACK_NAME = "sagestep"

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ASSET_DIR = REPO_ROOT / "lambdas"
TRAINING_ASL_FILE = REPO_ROOT / "statemachines" / "training.asl.json"
TRAINING_CONTAINER_DIR = REPO_ROOT / "containers" / "training"

# Files never shipped in the Lambda asset or the training image build context.
ASSET_EXCLUDES = [
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/*.egg-info",
    "**/.venv",
    "**/.DS_Store",
]

# Tags on every resource of the stack (SageMaker resources created at run time are tagged by the code).
TAG_APP = "sagestep:app"
TAG_STACK = "sagestep:stack"

# Template metadata key that names what a resource is for, so readers of the synthesized template
# (the local runtime, reviewers) can find a resource without relying on hashed logical ids.
METADATA_KEY = "sagestep:name"

# Lambda functions: logical name -> handler (docs/architecture.md, "Lambda functions").
API_FUNCTION = "Api"
TRAINING_HPO_RESULTS_FUNCTION = "TrainingHpoResults"
TRAINING_FINISH_DEPLOYMENT_FUNCTION = "TrainingFinishDeployment"
TRAINING_FAILURE_FUNCTION = "TrainingFailure"
TRAINING_EXECUTION_CLOSED_FUNCTION = "TrainingExecutionClosed"
WAIT_REGISTER_FUNCTION = "WaitRegister"
WAIT_RESUME_FUNCTION = "WaitResume"

HANDLERS = {
    API_FUNCTION: "sagestep_service.handlers.api.handler",
    TRAINING_HPO_RESULTS_FUNCTION: "sagestep_service.handlers.training.record_hpo_results",
    TRAINING_FINISH_DEPLOYMENT_FUNCTION: "sagestep_service.handlers.training.finish_deployment",
    TRAINING_FAILURE_FUNCTION: "sagestep_service.handlers.training.on_failure",
    TRAINING_EXECUTION_CLOSED_FUNCTION: "sagestep_service.handlers.training.on_execution_closed",
    WAIT_REGISTER_FUNCTION: "sagestep_service.handlers.waits.register",
    WAIT_RESUME_FUNCTION: "sagestep_service.handlers.waits.resume",
}

# Environment variable names (docs/architecture.md).
ENV_JOBS_TABLE_NAME = "JOBS_TABLE_NAME"
ENV_TRAINING_STATE_MACHINE_ARN = "TRAINING_STATE_MACHINE_ARN"
ENV_DATA_BUCKET = "DATA_BUCKET"
ENV_ARTIFACT_BUCKET = "ARTIFACT_BUCKET"
ENV_SAGEMAKER_ROLE_ARN = "SAGEMAKER_ROLE_ARN"
ENV_TRAINING_IMAGE_URI = "TRAINING_IMAGE_URI"
ENV_STACK_NAME = "STACK_NAME"
ENV_TOPIC_ARN = "TOPIC_ARN"
ENV_TRAINING_INSTANCE_TYPE = "TRAINING_INSTANCE_TYPE"
ENV_ENDPOINT_INSTANCE_TYPE = "ENDPOINT_INSTANCE_TYPE"
ENV_MAX_ENDPOINTS = "MAX_ENDPOINTS"
ENV_ENDPOINT_DEADLINE_SECONDS = "ENDPOINT_DEADLINE_SECONDS"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_LOG_LEVEL = "LOG_LEVEL"

# Job store (docs/architecture.md, "Job record").
JOBS_TABLE_PARTITION_KEY = "jobId"
GSI_BY_OWNER_KIND = "byOwnerKind"
GSI_BY_OWNER_KIND_PARTITION_KEY = "ownerKind"
GSI_BY_OWNER_KIND_SORT_KEY = "createdAt"
JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt"  # only wait records carry it (lambdas/sagestep_service/dal/jobs.py)

# Job ids are the names of the SageMaker resources a job creates; IAM scopes SageMaker by these prefixes.
JOB_KIND_MODEL = "model"
JOB_KIND_HPO = "hpo"
JOB_NAME_PREFIXES = (f"{JOB_KIND_MODEL}-", f"{JOB_KIND_HPO}-")
# Only training jobs (`POST /model`) create models, endpoint configs and endpoints.
ENDPOINT_NAME_PREFIXES = (f"{JOB_KIND_MODEL}-",)

# State machine `statemachines/training.asl.json`: the DefinitionSubstitutions keys.
SUB_JOBS_TABLE_NAME = "JobsTableName"
SUB_TOPIC_ARN = "TopicArn"
SUB_TRAINING_HPO_RESULTS_ARN = "TrainingHpoResultsFunctionArn"
SUB_TRAINING_FINISH_DEPLOYMENT_ARN = "TrainingFinishDeploymentFunctionArn"
SUB_TRAINING_FAILURE_ARN = "TrainingFailureFunctionArn"
SUB_WAIT_REGISTER_ARN = "WaitRegisterFunctionArn"
SUB_SAGEMAKER_ROLE_ARN = "SageMakerRoleArn"

# Step Functions-managed EventBridge rules used by `.sync` SageMaker integrations.
SFN_SAGEMAKER_TRAINING_RULE = "StepFunctionsGetEventsForSageMakerTrainingJobsRule"
SFN_SAGEMAKER_TUNING_RULE = "StepFunctionsGetEventsForSageMakerTuningJobsRule"

# EventBridge events that resume event-driven waits.
SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
SAGEMAKER_ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"

# Powertools for AWS Lambda (Python) v3 public layer, published by AWS in account 017000801446 as
# AWSLambdaPowertoolsPythonV3-{python_version}-{arch}:{layer version}; it bundles the `[all]` extras
# (pydantic v2, pydantic-settings, aws-xray-sdk) without boto3. Powertools also publishes each layer's ARN as
# the public SSM parameter /aws/service/powertools/python/{arch}/{python_version}/{package version|latest}.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python311-arm64"
POWERTOOLS_LAYER_SSM_PREFIX = "/aws/service/powertools/python/arm64/python3.11"

# Outputs of the stack (names are part of the user-facing contract: the CLI and the local runtime read them).
OUTPUT_API_URL = "ApiUrl"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUTPUT_TOPIC_ARN = "TopicArn"
OUTPUT_DATA_BUCKET = "DataBucketName"
OUTPUT_ARTIFACT_BUCKET = "ArtifactBucketName"
OUTPUT_JOBS_TABLE = "JobsTableName"
OUTPUT_TRAINING_STATE_MACHINE_ARN = "TrainingStateMachineArn"

# API routes served by the `Api` function (method, path).
API_ROUTES = (
    ("POST", "/model"),
    ("GET", "/model"),
    ("GET", "/model/{jobId}"),
    ("DELETE", "/model/{jobId}"),
    ("POST", "/hpo"),
    ("GET", "/hpo"),
    ("GET", "/hpo/{jobId}"),
    ("POST", "/infer"),
)
API_STAGE_NAME = "v1"
