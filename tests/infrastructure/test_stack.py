"""The synthesized template of the sagestep stack (one synthesis per session, `conftest.py`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stacks.platform import constants
from stacks.workflows import WORKFLOWS, documents, labeling, training, translation
from tests.infrastructure.synthesis import (
    STACK_NAME,
    Synth,
    as_list,
    denies_insecure_transport,
    flatten,
    iam_statements,
    violations,
)

SAGEMAKER_PREFIX_ARN = re.compile(r":sagemaker:<AWS::Region>:<AWS::AccountId>:[a-z-]+/(model|hpo)-\*$")

ALL_HANDLERS = {
    **constants.HANDLERS,
    **training.HANDLERS,
    **labeling.HANDLERS,
    **translation.HANDLERS,
    **documents.HANDLERS,
}
API_ROUTES = [*constants.PLATFORM_ROUTES, *(route for workflow in WORKFLOWS for route in workflow.ROUTES)]

TRANSLATION_SUBMISSION = {
    "TRANSLATION_STATE_MACHINE_ARN",
    "TRANSLATE_ROLE_ARN",
    "DATA_KEY_ARN",
    "TRANSLATION_DEADLINE_SECONDS",
    "TRANSLATION_QUEUE_PREFIXES",
}
DOCUMENTS_SUBMISSION = {
    "DOCUMENTS_STATE_MACHINE_ARN",
    "PARAGRAPHS_TABLE_NAME",
    "TEXTRACT_TOPIC_ARN",
    "TEXTRACT_ROLE_ARN",
    "DOCUMENTS_DEADLINE_SECONDS",
}
LABELING_SUBMISSION = {
    "LABELING_STATE_MACHINE_ARN",
    "LABELING_WORKTEAM_ARN",
    "LABELING_DEADLINE_SECONDS",
    "LABELING_DESTINATION_TOPICS",
    "LABELING_CUSTOM_LAMBDAS",
}
LABELING_TASKS = {
    "JOBS_TABLE_NAME",
    "DATA_BUCKET",
    "STACK_NAME",
    "DATA_KEY_ARN",
    "LABELING_PRE_ANNOTATION_FUNCTION_ARN",
    "LABELING_CONSOLIDATION_FUNCTION_ARN",
}
EXPECTED_ENVIRONMENT = {
    constants.API_FUNCTION: {
        "JOBS_TABLE_NAME",
        "STACK_NAME",
        "TRAINING_STATE_MACHINE_ARN",
        "DATA_BUCKET",
        "ARTIFACT_BUCKET",
        "SAGEMAKER_ROLE_ARN",
        "TRAINING_IMAGE_URI",
        "TRAINING_INSTANCE_TYPE",
        "ENDPOINT_INSTANCE_TYPE",
        "ENDPOINT_DEADLINE_SECONDS",
        *TRANSLATION_SUBMISSION,
        *DOCUMENTS_SUBMISSION,
        *LABELING_SUBMISSION,
    },
    **{
        name: LABELING_TASKS
        for name in (
            labeling.ADVANCE_FUNCTION,
            labeling.FINISH_FUNCTION,
            labeling.FAILURE_FUNCTION,
            labeling.JOB_STARTED_FUNCTION,
        )
    },
    labeling.PRE_ANNOTATION_FUNCTION: {"JOBS_TABLE_NAME", "DATA_BUCKET"},
    labeling.CONSOLIDATION_FUNCTION: {"JOBS_TABLE_NAME", "DATA_BUCKET"},
    **{name: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET", "PARAGRAPHS_TABLE_NAME"} for name in documents.TASK_FUNCTIONS},
    documents.UPLOAD_FUNCTION: {"JOBS_TABLE_NAME", "DATA_BUCKET", "ARTIFACT_BUCKET", *DOCUMENTS_SUBMISSION},
    translation.STAGE_FUNCTION: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET"},
    translation.RESTORE_FUNCTION: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET"},
    translation.FINISH_FUNCTION: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET"},
    translation.FAILURE_FUNCTION: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET"},
    translation.QUEUE_FUNCTION: {"JOBS_TABLE_NAME", "DATA_BUCKET", "ARTIFACT_BUCKET", *TRANSLATION_SUBMISSION},
    training.HPO_RESULTS_FUNCTION: {"JOBS_TABLE_NAME", "ARTIFACT_BUCKET"},
    training.FINISH_DEPLOYMENT_FUNCTION: {"JOBS_TABLE_NAME", "MAX_ENDPOINTS", "STACK_NAME"},
    training.FAILURE_FUNCTION: {"JOBS_TABLE_NAME", "STACK_NAME"},
    constants.EXECUTION_CLOSED_FUNCTION: {"JOBS_TABLE_NAME", "STACK_NAME", "TOPIC_ARN"},
    constants.WAIT_REGISTER_FUNCTION: {"JOBS_TABLE_NAME"},
    constants.WAIT_RESUME_FUNCTION: {"JOBS_TABLE_NAME"},
    constants.REDRIVE_FUNCTION: {"JOBS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "REDRIVE_TARGETS"},
}
SDK_FOR_PANDAS_LAYER = {
    "Fn::Join": ["", ["arn:aws:lambda:", {"Ref": "AWS::Region"}, ":336392948345:layer:AWSSDKPandas-Python311-Arm64:2"]]
}
POWERTOOLS_LAYER = "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.11/3.37.0}}"
COMMON_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
EXPECTED_SUBSTITUTIONS = {
    "JobsTableName",
    "TopicArn",
    "TrainingHpoResultsFunctionArn",
    "TrainingFinishDeploymentFunctionArn",
    "TrainingFailureFunctionArn",
    "WaitRegisterFunctionArn",
    "SageMakerRoleArn",
}


# --- synthesis and cdk-nag -------------------------------------------------------------------------------


def test_app_synthesizes_with_python_alone(synth: Synth) -> None:
    # Given the app run as `python app.py` (no CDK CLI, no Docker)
    # Then it succeeds and writes a cloud assembly with the stack's template
    assert synth.returncode == 0, synth.output[-4000:]
    assert (synth.outdir / "manifest.json").exists()
    assert synth.template["Resources"]


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    # Given the AwsSolutions checks added as a validation plugin
    # When the validation report is read
    # Then nothing is left unacknowledged (a finding would also have failed synthesis)
    assert violations(synth) == []
    assert "AwsSolutions" not in synth.output


def test_variant_configuration_is_nag_clean(synth_variant: Synth) -> None:
    # Given destroy-on-removal, CORS, required MFA, the Plus plan, a WAF ACL, an existing image
    # Then synthesis succeeds without unacknowledged findings
    assert synth_variant.returncode == 0, synth_variant.output[-4000:]
    assert violations(synth_variant) == []
    # And the switches took effect
    _, user_pool = synth_variant.labelled("UserPool")
    assert user_pool["Properties"]["MfaConfiguration"] == "ON"
    assert user_pool["Properties"]["UserPoolTier"] == "PLUS"
    for name in ("JobsTable", "DataBucket", "ArtifactBucket", "Key", "OperatorKey"):
        assert synth_variant.labelled(name)[1]["DeletionPolicy"] == "Delete", name
    assert len(synth_variant.resources("AWS::WAFv2::WebACLAssociation")) == 1
    _, function = synth_variant.labelled(constants.API_FUNCTION)
    (layer,) = function["Properties"]["Layers"]
    assert flatten(layer).endswith(
        ":lambda:<AWS::Region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-arm64:38"
    )
    assert not synth_variant.resources("AWS::ApiGateway::Account")
    methods = [m["Properties"] for m in synth_variant.resources("AWS::ApiGateway::Method").values()]
    # CORS preflights are the only methods without the Cognito authorizer
    assert {m["HttpMethod"] for m in methods if m["AuthorizationType"] != "COGNITO_USER_POOLS"} == {"OPTIONS"}
    assert len([m for m in methods if m["AuthorizationType"] == "COGNITO_USER_POOLS"]) == len(API_ROUTES)


# --- resources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "count"),
    [
        ("AWS::Lambda::Function", 26),
        ("AWS::DynamoDB::Table", 2),
        ("AWS::SNS::Topic", 3),
        ("AWS::S3::Bucket", 3),
        ("AWS::StepFunctions::StateMachine", 4),
        # The API's users, and the labelers of the stack's own Ground Truth workforce.
        ("AWS::Cognito::UserPool", 2),
        ("AWS::Cognito::UserPoolClient", 2),
        ("AWS::SageMaker::Workforce", 1),
        ("AWS::SageMaker::Workteam", 1),
        ("AWS::Glue::Database", 1),
        ("AWS::Glue::Table", 3),
        ("AWS::Events::Rule", 5),
        ("AWS::SQS::Queue", 3),
        ("AWS::KMS::Key", 2),
        ("AWS::CloudWatch::Dashboard", 1),
        ("AWS::ApiGateway::Method", len(API_ROUTES)),
    ],
)
def test_resource_counts(synth: Synth, resource_type: str, count: int) -> None:
    assert len(synth.resources(resource_type)) == count


def test_keys_rotate(synth: Synth) -> None:
    for name in ("Key", "OperatorKey"):
        _, key = synth.labelled(name)
        assert key["Properties"]["EnableKeyRotation"] is True, name


def test_job_table_keys_indexes_recovery_and_encryption(synth: Synth) -> None:
    # Given the job table
    _, table = synth.labelled("JobsTable")
    properties = table["Properties"]
    # Then it matches the job record contract
    assert properties["KeySchema"] == [{"AttributeName": "jobId", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in properties["SSESpecification"]
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert indexes["byOwnerKind"]["KeySchema"] == [
        {"AttributeName": "ownerKind", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert set(indexes) == {"byOwnerKind"}  # waits are found by a consistent GetItem, not an index
    assert all(index["Projection"] == {"ProjectionType": "ALL"} for index in indexes.values())
    # And wait records that nothing resumed expire
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


@pytest.mark.parametrize(("topic", "key"), [("Topic", "Key"), ("OperatorTopic", "OperatorKey")])
def test_topics_are_encrypted_and_tls_only(synth: Synth, topic: str, key: str) -> None:
    # Given the job topic (users) and the operator topic (alarms)
    topic_id, resource = synth.labelled(topic)
    key_id, _ = synth.labelled(key)
    # Then each is encrypted with its own key and its policy denies plain HTTP
    assert resource["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (policy,) = [
        p for p in synth.resources("AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    assert denies_insecure_transport(policy["Properties"]["PolicyDocument"])


def test_buckets_are_encrypted_private_tls_only_and_logged(synth: Synth) -> None:
    # Given the three buckets and their policies
    policies = {
        flatten(policy["Properties"]["Bucket"]): policy["Properties"]["PolicyDocument"]
        for policy in synth.resources("AWS::S3::BucketPolicy").values()
    }
    log_bucket_id, _ = synth.labelled("AccessLogBucket")
    for logical_id, bucket in synth.resources("AWS::S3::Bucket").items():
        properties = bucket["Properties"]
        # Then every bucket is encrypted, blocks public access and denies plain HTTP
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert denies_insecure_transport(policies[f"<{logical_id}>"])
    for name in ("DataBucket", "ArtifactBucket"):
        # And data and artifacts are KMS-encrypted, versioned and logged to the access-log bucket
        _, bucket = synth.labelled(name)
        properties = bucket["Properties"]
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket_id}


def test_stateful_resources_are_retained_by_default(synth: Synth) -> None:
    for name in ("JobsTable", "DataBucket", "ArtifactBucket", "Key", "OperatorKey", "UserPool"):
        _, resource = synth.labelled(name)
        assert resource["DeletionPolicy"] == "Retain", name


# --- functions ---------------------------------------------------------------------------------------------


def test_functions_match_the_architecture_contract(synth: Synth) -> None:
    # Given every Lambda function, found by its `sagestep:name` label
    for name, handler in ALL_HANDLERS.items():
        _, function = synth.labelled(name)
        properties = function["Properties"]
        # Then handler, runtime, architecture, tracing and layer are the shared ones
        assert properties["Handler"] == handler
        assert properties["Runtime"] == "python3.11"
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert "LogGroup" in properties["LoggingConfig"]
        # And the Powertools layer ARN comes from Powertools' public SSM parameter of the pinned version
        # (the labeling report's writer also has the AWS SDK for pandas layer: pyarrow)
        extra = [SDK_FOR_PANDAS_LAYER] if name == labeling.FINISH_FUNCTION else []
        assert properties["Layers"] == [POWERTOOLS_LAYER, *extra], name
        # And the environment holds exactly what its settings model declares
        variables = properties["Environment"]["Variables"]
        assert set(variables) == EXPECTED_ENVIRONMENT[name] | COMMON_ENVIRONMENT, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "sagestep"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "sagestep"


def test_environment_values_are_simple_intrinsics(synth: Synth) -> None:
    # The local runtime resolves these: literals, Ref, Fn::GetAtt, Fn::Join, or Fn::Sub over pseudo parameters.
    for name in ALL_HANDLERS:
        _, function = synth.labelled(name)
        for key, value in function["Properties"]["Environment"]["Variables"].items():
            assert isinstance(value, str) or set(value) <= {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub"}, (
                name,
                key,
                value,
            )


def test_api_function_environment_values(synth: Synth) -> None:
    _, function = synth.labelled(constants.API_FUNCTION)
    variables = function["Properties"]["Environment"]["Variables"]
    state_machine_id, _ = synth.labelled("TrainingStateMachine")
    table_id, _ = synth.labelled("JobsTable")
    role_id, _ = synth.labelled("SageMakerExecutionRole")
    assert variables["TRAINING_STATE_MACHINE_ARN"] == {"Ref": state_machine_id}
    assert variables["JOBS_TABLE_NAME"] == {"Ref": table_id}
    assert variables["SAGEMAKER_ROLE_ARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert variables["STACK_NAME"] == STACK_NAME
    assert variables["TRAINING_INSTANCE_TYPE"] == "ml.m5.large"
    assert variables["ENDPOINT_DEADLINE_SECONDS"] == "3600"


# --- state machine -----------------------------------------------------------------------------------------


def test_state_machine_logs_all_and_traces(synth: Synth) -> None:
    _, state_machine = synth.labelled("TrainingStateMachine")
    properties = state_machine["Properties"]
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["StateMachineName"] == f"{STACK_NAME}-training"
    (log_group,) = [
        group
        for logical_id, group in synth.resources("AWS::Logs::LogGroup").items()
        if {"Fn::GetAtt": [logical_id, "Arn"]}
        == properties["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    ]
    assert "KmsKeyId" in log_group["Properties"]


def test_every_asl_placeholder_has_a_substitution_and_vice_versa(synth: Synth) -> None:
    # Given the inlined definition and its substitutions
    _, state_machine = synth.labelled("TrainingStateMachine")
    definition = state_machine["Properties"]["DefinitionString"]
    substitutions = state_machine["Properties"]["DefinitionSubstitutions"]
    placeholders = set(re.findall(r"\$\{([^}]+)\}", definition))
    # Then both sides name exactly the substitutions of docs/architecture.md
    assert placeholders == set(substitutions) == EXPECTED_SUBSTITUTIONS
    # And once substituted, no placeholder is left and the definition is JSON
    for key in substitutions:
        definition = definition.replace("${" + key + "}", "x")
    assert "${" not in definition
    assert json.loads(definition)["States"]
    # And every value is a plain Ref or GetAtt
    assert all(set(value) <= {"Ref", "Fn::GetAtt"} for value in substitutions.values())


# --- IAM -----------------------------------------------------------------------------------------------------


def test_no_wildcard_actions(synth: Synth) -> None:
    for statement in iam_statements(synth):
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement


def test_sagemaker_resources_are_scoped_by_job_prefix(synth: Synth) -> None:
    # Given every statement with a SageMaker action
    for statement in iam_statements(synth):
        actions = as_list(statement["Action"])
        if not any(action.startswith("sagemaker:") for action in actions):
            continue
        for resource in map(flatten, as_list(statement["Resource"])):
            if resource == "*":
                # Then only ListEndpoints (no resource-level permissions) may use "*"
                sagemaker_actions = {a for a in actions if a.startswith("sagemaker:")}
                assert sagemaker_actions == {"sagemaker:ListEndpoints"}, statement
            else:
                # Then every ARN is limited to sagestep's job-id prefixes, or to labeling jobs tagged with the stack
                # (their names are the users' batch and job names)
                if resource.endswith(":labeling-job/*"):
                    tags = statement["Condition"]["StringEquals"]
                    assert set(tags) <= {"aws:ResourceTag/sagestep:stack", "aws:RequestTag/sagestep:stack"}, statement
                    assert set(tags.values()) == {STACK_NAME}, statement
                    continue
                assert SAGEMAKER_PREFIX_ARN.search(resource), resource


def test_only_documented_actions_use_resource_star(synth: Synth) -> None:
    allowed = {
        # no resource-level permissions:
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "sagemaker:ListEndpoints",
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        "translate:StartTextTranslationJob",
        "translate:DescribeTextTranslationJob",
        "translate:ListTextTranslationJobs",
        "translate:StopTextTranslationJob",
        "textract:StartDocumentAnalysis",
        "textract:GetDocumentAnalysis",
        "comprehend:BatchDetectSentiment",
        "comprehend:BatchDetectKeyPhrases",
        "comprehend:BatchDetectEntities",
        "comprehend:BatchDetectDominantLanguage",
        "comprehend:DetectDominantLanguage",
    }
    for statement in iam_statements(synth):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= allowed, statement


#: The DynamoDB actions each function's role gets on the job table: what its code calls, nothing more.
TABLE_ACTIONS = {
    constants.API_FUNCTION: {
        # Jobs: claimed (conditional put), read, listed (index), reserved/released, removed if never started.
        "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem",
    },
    training.HPO_RESULTS_FUNCTION: {"UpdateItem"},
    training.FINISH_DEPLOYMENT_FUNCTION: {"GetItem", "UpdateItem"},
    training.FAILURE_FUNCTION: {"UpdateItem"},
    translation.FINISH_FUNCTION: {"GetItem", "UpdateItem"},
    labeling.ADVANCE_FUNCTION: {"GetItem", "UpdateItem"},
    labeling.FINISH_FUNCTION: {"GetItem", "UpdateItem"},
    labeling.FAILURE_FUNCTION: {"GetItem", "UpdateItem"},
    labeling.JOB_STARTED_FUNCTION: {"GetItem"},
    # A stop request is read at each call; the failure path reads who stopped the job.
    translation.STAGE_FUNCTION: {"GetItem"},
    translation.RESTORE_FUNCTION: {"GetItem"},
    translation.FAILURE_FUNCTION: {"GetItem"},
    documents.FINISH_FUNCTION: {"UpdateItem"},
    # An upload's submission: the claim (conditional put), its replay (read), removal if never started.
    documents.UPLOAD_FUNCTION: {"GetItem", "PutItem", "DeleteItem"},
    # Submission from the queue: the claim (conditional put), its replay (read), removal if never started.
    translation.QUEUE_FUNCTION: {"GetItem", "PutItem", "DeleteItem"},
    constants.EXECUTION_CLOSED_FUNCTION: {"GetItem", "UpdateItem"},
    # Wait records: put at registration; read consistently, taken (conditional delete), put back on failure.
    constants.WAIT_REGISTER_FUNCTION: {"PutItem", "DeleteItem"},
    constants.WAIT_RESUME_FUNCTION: {"GetItem", "DeleteItem", "PutItem"},
}  # fmt: skip


def _function_actions(synth: Synth, name: str, service: str) -> set[str]:
    """The ``service:`` actions the role of the function labelled ``name`` is allowed, without the prefix."""
    _, function = synth.labelled(name)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return {
        action.removeprefix(f"{service}:")
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in as_list(statement["Action"])
        if action.startswith(f"{service}:")
    }


@pytest.mark.parametrize("name", sorted(TABLE_ACTIONS))
def test_each_function_gets_only_the_table_actions_it_calls(synth: Synth, name: str) -> None:
    assert _function_actions(synth, name, "dynamodb") == TABLE_ACTIONS[name]


#: Failure cleanup: the run's endpoint, endpoint config and model, and its training or tuning job if it still runs.
_CLEANUP = {"DescribeEndpoint", "ListTags", "DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"}
_STOP_JOBS = {
    "DescribeTrainingJob",
    "StopTrainingJob",
    "DescribeHyperParameterTuningJob",
    "StopHyperParameterTuningJob",
}
#: The SageMaker actions of each function's role: what its code calls, nothing more.
SAGEMAKER_ACTIONS = {
    # POST /infer (describe and tags of a named endpoint, invoke), DELETE /model/{jobId} (hierarchical delete).
    # ...and GET /batch/show (running labeling jobs described live), POST /batch/{batchId}/stop.
    constants.API_FUNCTION: {"InvokeEndpoint", "DescribeEndpoint", "ListTags", "DeleteEndpoint",
                             "DeleteEndpointConfig", "DeleteModel", "DescribeLabelingJob", "StopLabelingJob"},
    labeling.FAILURE_FUNCTION: {"DescribeLabelingJob", "StopLabelingJob"},
    # A job that starts after its batch's stop request is stopped.
    labeling.JOB_STARTED_FUNCTION: {"DescribeLabelingJob", "StopLabelingJob"},
    labeling.CONSOLIDATION_FUNCTION: {"DescribeLabelingJob"},
    training.HPO_RESULTS_FUNCTION: {"DescribeHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob"},
    # Eviction (list, tags, delete the endpoint, its config and its models) and hand-over (the previous job's
    # config and model); final metrics.
    training.FINISH_DEPLOYMENT_FUNCTION: {*_CLEANUP, "ListEndpoints", "DescribeEndpointConfig",
                                          "DescribeTrainingJob"},
    training.FAILURE_FUNCTION: _CLEANUP | _STOP_JOBS,
    constants.EXECUTION_CLOSED_FUNCTION: _CLEANUP | _STOP_JOBS | {"DescribeLabelingJob", "StopLabelingJob"},
    constants.WAIT_REGISTER_FUNCTION: {"DescribeEndpoint"},
    constants.WAIT_RESUME_FUNCTION: {"DescribeEndpoint"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SAGEMAKER_ACTIONS))
def test_each_function_gets_only_the_sagemaker_actions_it_calls(synth: Synth, name: str) -> None:
    assert _function_actions(synth, name, "sagemaker") == SAGEMAKER_ACTIONS[name]


def test_pass_role_is_limited_to_the_service_roles(synth: Synth) -> None:
    # Each passed role goes only to the service that assumes it
    services = {
        synth.labelled("SageMakerExecutionRole")[0]: "sagemaker.amazonaws.com",
        synth.labelled("TranslateDataAccessRole")[0]: "translate.amazonaws.com",
        synth.labelled("TextractNotificationRole")[0]: "textract.amazonaws.com",
        synth.labelled("LabelingRole")[0]: "sagemaker.amazonaws.com",
    }
    pass_role = [s for s in iam_statements(synth) if "iam:PassRole" in as_list(s["Action"])]
    assert {statement["Resource"]["Fn::GetAtt"][0] for statement in pass_role} == set(services)
    for statement in pass_role:
        service = services[statement["Resource"]["Fn::GetAtt"][0]]
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": service}}


def test_state_machine_role_covers_sync_integrations(synth: Synth) -> None:
    _, state_machine = synth.labelled("TrainingStateMachine")
    role_id = state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert {
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:CreateModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:AddTags",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
        "iam:PassRole",
        "lambda:InvokeFunction",
        "dynamodb:UpdateItem",
        "sns:Publish",
    } <= actions
    rules = {
        flatten(resource)
        for statement in statements
        if "events:PutRule" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert {rule.rsplit("/", 1)[1] for rule in rules} == {
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
        "StepFunctionsGetEventsForSageMakerTuningJobsRule",
    }


# --- API -------------------------------------------------------------------------------------------------


def _route_paths(synth: Synth) -> dict[str, str]:
    """Logical id of each API resource (and of the root) -> its path."""
    rest_api_id, _ = synth.labelled("RestApi")
    resources = synth.resources("AWS::ApiGateway::Resource")
    root = {"Fn::GetAtt": [rest_api_id, "RootResourceId"]}
    paths: dict[str, str] = {}

    def path_of(parent: Any) -> str:
        if parent == root:
            return ""
        logical_id = parent["Ref"]
        if logical_id not in paths:
            properties = resources[logical_id]["Properties"]
            paths[logical_id] = f"{path_of(properties['ParentId'])}/{properties['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of({"Ref": logical_id})
    paths["root"] = "/"
    return paths


def test_api_routes_all_use_the_cognito_authorizer_and_the_validator(synth: Synth) -> None:
    # Given every API method
    paths = _route_paths(synth)
    (authorizer_id,) = synth.resources("AWS::ApiGateway::Authorizer")
    (validator_id,) = synth.resources("AWS::ApiGateway::RequestValidator")
    api_function_id, _ = synth.labelled(constants.API_FUNCTION)
    routes = set()
    for method in synth.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        resource = properties["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        routes.add((properties["HttpMethod"], path))
        # Then each is authorized by Cognito, validated and proxied to the Api function
        assert properties["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert properties["AuthorizerId"] == {"Ref": authorizer_id}
        assert properties["RequestValidatorId"] == {"Ref": validator_id}
        assert properties["Integration"]["Type"] == "AWS_PROXY"
        assert api_function_id in json.dumps(properties["Integration"]["Uri"])
    # And the routes are exactly the documented ones
    assert routes == set(API_ROUTES)


def test_api_stage_logs_traces_and_throttles(synth: Synth) -> None:
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["TracingEnabled"] is True
    assert "DestinationArn" in properties["AccessLogSetting"]
    (settings,) = properties["MethodSettings"]
    assert settings["ResourcePath"] == "/*"
    assert settings["HttpMethod"] == "*"
    assert settings["LoggingLevel"] in {"ERROR", "INFO"}
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0


def test_user_pool_and_client(synth: Synth) -> None:
    _, user_pool = synth.labelled("UserPool")
    policy = user_pool["Properties"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[key] for key in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert user_pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    _, client = synth.labelled("UserPoolClient")
    assert set(client["Properties"]["ExplicitAuthFlows"]) >= {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert client["Properties"]["GenerateSecret"] is False


def test_user_pool_client_allows_no_oauth_flow(synth: Synth) -> None:
    # Given the app client: tokens come from InitiateAuth (USER_PASSWORD_AUTH, SRP), never from the hosted UI
    _, client = synth.labelled("UserPoolClient")
    properties = client["Properties"]
    # Then no OAuth grant (the CDK default is implicit + code) and no (placeholder) callback URL is configured
    assert properties.get("AllowedOAuthFlowsUserPoolClient", False) is False
    assert not properties.get("AllowedOAuthFlows")
    assert not properties.get("AllowedOAuthScopes")
    assert not properties.get("CallbackURLs")
    assert not properties.get("LogoutURLs")


# --- event-driven waits ------------------------------------------------------------------------------------


def test_endpoint_events_resume_waits_with_retries_and_a_dead_letter_queue(synth: Synth) -> None:
    _, rule = synth.labelled("WaitResumeRule:SageMakerEndpointStateChange")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.sagemaker"]
    assert pattern["detail-type"] == ["SageMaker Endpoint State Change"]
    assert pattern["detail"] == {
        "EndpointName": [{"prefix": "model-"}],
        "EndpointStatus": ["IN_SERVICE", "FAILED", "UPDATE_ROLLBACK_FAILED", "OUT_OF_SERVICE"],
    }
    (target,) = rule["Properties"]["Targets"]
    resume_id, _ = synth.labelled(constants.WAIT_RESUME_FUNCTION)
    queue_id, queue = synth.labelled("WaitResumeDeadLetterQueue")
    assert target["Arn"] == {"Fn::GetAtt": [resume_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"]


# --- outputs -----------------------------------------------------------------------------------------------


def test_outputs(synth: Synth) -> None:
    assert set(synth.template["Outputs"]) == {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "TopicArn",
        "OperatorTopicArn",
        "DataBucketName",
        "ArtifactBucketName",
        "JobsTableName",
        "RedriveFunctionName",
        "TrainingStateMachineArn",
        "LabelingStateMachineArn",
        "LabelingWorkteamArn",
        "LabelingReportDatabase",
        "TranslationStateMachineArn",
        "TranslationQueueUrl",
        "TranslationQueueName",
        "TranslationDeadLetterQueueUrl",
        "DocumentsStateMachineArn",
    }


# --- no event is lost ----------------------------------------------------------------------------------


def test_event_driven_functions_send_what_they_cannot_handle_to_the_dead_letter_queue(synth: Synth) -> None:
    # Given the functions EventBridge invokes asynchronously
    queue_id, _ = synth.labelled("WaitResumeDeadLetterQueue")
    configs = {
        config["Properties"]["FunctionName"]["Ref"]: config["Properties"]
        for config in synth.resources("AWS::Lambda::EventInvokeConfig").values()
    }
    for name in (constants.WAIT_RESUME_FUNCTION, constants.EXECUTION_CLOSED_FUNCTION):
        function_id, _ = synth.labelled(name)
        # Then after two retries an event goes to the dead-letter queue, never silently away
        config = configs[function_id]
        assert config["MaximumRetryAttempts"] == 2, name
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue_id, "Arn"]}, name


def test_the_redrive_may_invoke_only_the_event_driven_functions(synth: Synth) -> None:
    redrive_id, redrive = synth.labelled(constants.REDRIVE_FUNCTION)
    role_id = redrive["Properties"]["Role"]["Fn::GetAtt"][0]
    invoked = [
        resource
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    expected = [
        {"Fn::GetAtt": [synth.labelled(name)[0], "Arn"]}
        for name in (
            constants.WAIT_RESUME_FUNCTION,
            constants.EXECUTION_CLOSED_FUNCTION,
            documents.UPLOAD_FUNCTION,
            labeling.JOB_STARTED_FUNCTION,
        )
    ]
    assert sorted(map(str, invoked)) == sorted(map(str, expected)), redrive_id


def test_labeling_report_tables_are_the_writers_schema(synth: Synth) -> None:
    from sagestep_service.workflows.labeling import report_schema

    # Given the Glue tables of the labeling reports
    tables = {
        t["Properties"]["TableInput"]["Name"]: t["Properties"] for t in synth.resources("AWS::Glue::Table").values()
    }
    assert set(tables) == set(report_schema.TABLES)
    for name, table in tables.items():
        table_input = table["TableInput"]
        # Then each has the writer's columns (no crawler guesses them), Parquet, and projected owner/batch partitions
        columns = table_input["StorageDescriptor"]["Columns"]
        assert [(c["Name"], c["Type"]) for c in columns] == [(c.name, c.type) for c in report_schema.columns(name)]
        assert table_input["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
        assert [k["Name"] for k in table_input["PartitionKeys"]] == ["owner", "batch"]
        parameters = table_input["Parameters"]
        assert parameters["projection.enabled"] == "true"
        assert flatten(parameters["storage.location.template"]).endswith(
            f"/users/${{owner}}/labeling/${{batch}}/report/{name}/"
        )
    assert not synth.resources("AWS::Glue::Crawler")
