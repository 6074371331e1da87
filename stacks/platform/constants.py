"""Names shared by the constructs (see docs/architecture.md for the contracts behind them)."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "sagestep"
DEFAULT_STACK_NAME = "sagestep"

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_ASSET_DIR = REPO_ROOT / "lambdas"
STATEMACHINES_DIR = REPO_ROOT / "statemachines"
CONTAINERS_DIR = REPO_ROOT / "containers"

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
# The platform's functions; each workflow names its own task functions `<Workflow><Task>` (e.g.
# `TrainingHpoResults`) in its construct under stacks/workflows/.
API_FUNCTION = "Api"
EXECUTION_CLOSED_FUNCTION = "ExecutionClosed"
WAIT_REGISTER_FUNCTION = "WaitRegister"
WAIT_RESUME_FUNCTION = "WaitResume"
REDRIVE_FUNCTION = "RedriveEvents"

HANDLERS = {
    API_FUNCTION: "sagestep_service.platform.api.handler",
    EXECUTION_CLOSED_FUNCTION: "sagestep_service.platform.handlers.on_execution_closed",
    WAIT_REGISTER_FUNCTION: "sagestep_service.platform.handlers.register",
    WAIT_RESUME_FUNCTION: "sagestep_service.platform.handlers.resume",
    REDRIVE_FUNCTION: "sagestep_service.platform.handlers.redrive_events",
}

# Environment variable names (docs/architecture.md).
ENV_JOBS_TABLE_NAME = "JOBS_TABLE_NAME"
ENV_DATA_BUCKET = "DATA_BUCKET"
ENV_ARTIFACT_BUCKET = "ARTIFACT_BUCKET"
ENV_STACK_NAME = "STACK_NAME"
ENV_TOPIC_ARN = "TOPIC_ARN"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_LOG_LEVEL = "LOG_LEVEL"

# Job store (docs/architecture.md, "Job record").
JOBS_TABLE_PARTITION_KEY = "jobId"
GSI_BY_OWNER_KIND = "byOwnerKind"
GSI_BY_OWNER_KIND_PARTITION_KEY = "ownerKind"
GSI_BY_OWNER_KIND_SORT_KEY = "createdAt"
JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt"  # job records until their execution starts, and wait records

# The platform's DefinitionSubstitutions keys, available to every state machine (`${JobsTableName}`, ...).
SUB_JOBS_TABLE_NAME = "JobsTableName"
SUB_TOPIC_ARN = "TopicArn"
SUB_WAIT_REGISTER_ARN = "WaitRegisterFunctionArn"

# Step Functions' execution status changes (the safety net's rule).
STEP_FUNCTIONS_EVENT_SOURCE = "aws.states"
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
# What the safety net's function logs when it closes a job (`sagestep_service.platform.handlers
# .on_execution_closed`): the monitoring counts these log lines.
SAFETY_NET_CLOSED_MESSAGE = "job closed after its execution ended"

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
OUTPUT_OPERATOR_TOPIC_ARN = "OperatorTopicArn"
OUTPUT_DATA_BUCKET = "DataBucketName"
OUTPUT_ARTIFACT_BUCKET = "ArtifactBucketName"
OUTPUT_JOBS_TABLE = "JobsTableName"
OUTPUT_REDRIVE_FUNCTION = "RedriveFunctionName"
# Each workflow adds `<Workflow>StateMachineArn` (e.g. `TrainingStateMachineArn`).
API_STAGE_NAME = "v1"
# The platform's own routes (every workflow's data comes in through them); workflows add theirs (`ROUTES`).
PLATFORM_ROUTES = (("POST", "/uploads"),)
# Each user's prefix of the data bucket (`users/<Cognito sub>/`): uploads go there, submissions read only there.
USERS_DATA_PREFIX = "users/"
