"""The fixture stack's resources are created in moto from its template (cloudformation.provisioner and
the service modules under cloudformation.resources)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from sagestep.local.cloudformation import (
    CloudAssembly,
    ProvisionedStack,
    ResolutionError,
    boto3_client_factory,
    provision,
    readable_id,
)
from tests.local.fixtures.stack import REGION, moto_server

ACCOUNT = "123456789012"
STACK = "SagestepFixture"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def stack(assembly: CloudAssembly, endpoint: str) -> ProvisionedStack:
    return provision(
        assembly.template, endpoint_url=endpoint, stack_name=assembly.stack_name, asset_dir=assembly.directory
    )


def client(name: str, endpoint: str) -> Any:
    return boto3.client(
        name, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )


def logical_id(stack: ProvisionedStack, resource_type: str, readable: str) -> str:
    (found,) = [k for k in stack.of_type(resource_type) if readable_id(k) == readable]
    return found


def test_table_is_created_with_its_indexes_and_settings(stack: ProvisionedStack, endpoint: str) -> None:
    # Given the provisioned fixture stack
    table_id = logical_id(stack, "AWS::DynamoDB::Table", "JobsTable")
    dynamodb = client("dynamodb", endpoint)
    # When the table is described
    table = dynamodb.describe_table(TableName=stack.ref(table_id))["Table"]
    # Then it has the deterministic local name, the key, the GSI, PITR, TTL and the customer-managed key
    assert table["TableName"] == f"{STACK}-JobsTable"
    assert table["KeySchema"] == [{"AttributeName": "jobId", "KeyType": "HASH"}]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "byOwnerKind"
    assert gsi["KeySchema"] == [
        {"AttributeName": "ownerKind", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    backups = dynamodb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    assert table["SSEDescription"]["KMSMasterKeyArn"] == stack.attribute(
        logical_id(stack, "AWS::KMS::Key", "Key"), "Arn"
    )


def test_state_machine_definitions_are_substituted_with_local_values(stack: ProvisionedStack, endpoint: str) -> None:
    # Given both state machines: an inline ASL and one shipped as a file asset
    sfn = client("stepfunctions", endpoint)
    prepare = stack.functions[logical_id(stack, "AWS::Lambda::Function", "TrainingPrepare")]
    for readable in ("Training", "Recorder"):
        machine_id = logical_id(stack, "AWS::StepFunctions::StateMachine", readable)
        # When the definition created in moto is read
        definition = sfn.describe_state_machine(stateMachineArn=stack.ref(machine_id))["definition"]
        # Then no placeholder is left and local names are in
        assert "${" not in definition
        assert f"{STACK}-JobsTable" in definition
        json.loads(definition)
    training = sfn.describe_state_machine(
        stateMachineArn=stack.ref(logical_id(stack, "AWS::StepFunctions::StateMachine", "Training"))
    )
    assert prepare.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fixture-training-prepare"
    assert prepare.arn in training["definition"]
    assert training["name"] == f"{STACK}-Training"
    assert training["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{STACK}-TrainingRole"
    recorder_arn = stack.ref(logical_id(stack, "AWS::StepFunctions::StateMachine", "Recorder"))
    assert recorder_arn == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:fixture-recorder"


def test_function_environment_resolves_to_local_names(stack: ProvisionedStack, endpoint: str) -> None:
    # Given the API function
    api = stack.functions[logical_id(stack, "AWS::Lambda::Function", "Api")]
    # Then its handler and environment refer to the local resources
    assert api.handler == "fixture_service.handlers.api"
    assert api.function_name == f"{STACK}-Api"
    assert api.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-Api"
    assert api.environment == {
        "JOBS_TABLE_NAME": f"{STACK}-JobsTable",
        "JOBS_TABLE_ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{STACK}-JobsTable",
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-Notifications",
        "DATA_BUCKET": "sagestepfixture-databucket",
        "QUEUE_URL": f"{endpoint}/{ACCOUNT}/{STACK}-Work",
        "STACK_NAME": STACK,
        "STAGE": "test",
        "TRAINING_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{STACK}-Training",
    }
    # and the CDK's custom-resource handler is not a function of the application
    assert {readable_id(f) for f in stack.functions} == {"Api", "TrainingPrepare"}


def test_messaging_resources_exist_and_are_wired(stack: ProvisionedStack, endpoint: str) -> None:
    sns, sqs, events = client("sns", endpoint), client("sqs", endpoint), client("events", endpoint)
    topic_arn = stack.ref(logical_id(stack, "AWS::SNS::Topic", "Notifications"))
    key_arn = stack.attribute(logical_id(stack, "AWS::KMS::Key", "Key"), "Arn")
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["KmsMasterKeyId"] == key_arn
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert subscription["Endpoint"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-Work"
    queue = sqs.get_queue_attributes(
        QueueUrl=stack.ref(logical_id(stack, "AWS::SQS::Queue", "Work")), AttributeNames=["All"]
    )
    assert json.loads(queue["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-DeadLetters",
        "maxReceiveCount": 3,
    }
    assert queue["Attributes"]["VisibilityTimeout"] == "120"
    rule = stack.ref(logical_id(stack, "AWS::Events::Rule", "EndpointStateChange"))
    assert json.loads(events.describe_rule(Name=rule)["EventPattern"]) == {
        "detail-type": ["SageMaker Endpoint State Change"],
        "source": ["aws.sagemaker"],
    }
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["Arn"] == stack.function_by_name("fixture-training-prepare").arn


def test_bucket_sends_object_events_to_eventbridge(stack: ProvisionedStack, endpoint: str) -> None:
    # Given the data bucket (KMS-encrypted, EventBridge notifications through the CDK's custom resource)
    s3, sqs, events = client("s3", endpoint), client("sqs", endpoint), client("events", endpoint)
    bucket = stack.ref(logical_id(stack, "AWS::S3::Bucket", "DataBucket"))
    probe = sqs.create_queue(QueueName="probe")["QueueUrl"]
    events.put_rule(Name="probe", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="probe", Targets=[{"Id": "probe", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:probe"}])
    # When an object is uploaded
    s3.put_object(Bucket=bucket, Key="data/train.csv", Body=b"1,2\n")
    # Then it is stored encrypted and the upload reaches EventBridge
    assert s3.head_object(Bucket=bucket, Key="data/train.csv")["ServerSideEncryption"] == "aws:kms"
    (message,) = sqs.receive_message(QueueUrl=probe, WaitTimeSeconds=2)["Messages"]
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "data/train.csv"


def test_route_table_is_derived_from_the_api_resources(stack: ProvisionedStack) -> None:
    api = stack.rest_api
    pool_id = stack.user_pool.user_pool_id
    api_function = logical_id(stack, "AWS::Lambda::Function", "Api")
    routes = {(r.method, r.path): r for r in api.routes if r.method != "OPTIONS"}
    assert set(routes) == {
        ("GET", "/model"),
        ("POST", "/model"),
        ("GET", "/model/{jobId}"),
        ("DELETE", "/model/{jobId}"),
        ("GET", "/health"),
        ("GET", "/search"),
        ("ANY", "/files/{proxy+}"),
    }
    for key, route in routes.items():
        assert route.function_logical_id == api_function
        if key in (("GET", "/health"), ("GET", "/search")):
            assert (route.authorization_type, route.user_pool_ids) == ("NONE", ())
        else:
            assert (route.authorization_type, route.user_pool_ids) == ("COGNITO_USER_POOLS", (pool_id,))
    assert routes[("GET", "/search")].required_parameters == (("querystring", "q"),)
    assert routes[("GET", "/model")].required_parameters == ()
    preflight = next(r for r in api.routes if (r.method, r.path) == ("OPTIONS", "/model/{jobId}"))
    assert preflight.integration.type == "MOCK"
    assert preflight.integration.mock_status == 204
    assert ("Access-Control-Allow-Origin", "*") in preflight.integration.mock_headers
    assert api.stage_name == "v1"


def test_user_pool_has_the_template_policies_and_client(stack: ProvisionedStack, endpoint: str) -> None:
    cognito = client("cognito-idp", endpoint)
    pool = cognito.describe_user_pool(UserPoolId=stack.user_pool.user_pool_id)["UserPool"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool["UsernameAttributes"] == ["email"]
    (client_id,) = stack.user_pool.client_ids.values()
    app_client = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client_id)["UserPoolClient"]
    assert "ALLOW_USER_PASSWORD_AUTH" in app_client["ExplicitAuthFlows"]
    assert [g["GroupName"] for g in cognito.list_groups(UserPoolId=pool["Id"])["Groups"]] == ["admins"]
    assert stack.outputs["UserPoolId"] == pool["Id"]
    assert stack.outputs["UserPoolClientId"] == client_id


def test_skipped_types_are_recorded_without_warnings(stack: ProvisionedStack) -> None:
    assert set(stack.skipped.values()) >= {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Permission"}
    assert stack.warnings == []
    assert stack.outputs["TableName"] == f"{STACK}-JobsTable"
    assert stack.outputs["ApiUrl"].endswith("/v1/")


def test_provisioning_again_finds_the_same_resources(
    stack: ProvisionedStack, assembly: CloudAssembly, endpoint: str
) -> None:
    # Given a provisioned stack (e.g. a restarted runtime on persisted state)
    # When the same template is provisioned again
    again = provision(
        assembly.template, endpoint_url=endpoint, stack_name=assembly.stack_name, asset_dir=assembly.directory
    )
    # Then every resource has the same physical id, and nothing was duplicated
    assert {k: v.ref for k, v in again.resources.items()} == {k: v.ref for k, v in stack.resources.items()}
    assert len(client("cognito-idp", endpoint).list_user_pools(MaxResults=10)["UserPools"]) == 1
    assert len(client("kms", endpoint).list_keys()["Keys"]) == 1


def test_unknown_types_warn_and_missing_substitutions_fail(assembly: CloudAssembly, endpoint: str) -> None:
    # Given a template with a type the runtime does not know
    template = copy.deepcopy(assembly.template)
    template["Resources"]["Thing"] = {"Type": "AWS::Foo::Bar", "Properties": {}}
    # When provisioned, Then a warning names it and the rest is provisioned
    result = provision(
        template,
        client_factory=boto3_client_factory(endpoint),
        stack_name=assembly.stack_name,
        asset_dir=assembly.directory,
    )
    assert result.warnings == ["Thing: resource type AWS::Foo::Bar is not emulated locally; skipped"]
    # Given a definition with a placeholder DefinitionSubstitutions does not define
    machine = logical_id(result, "AWS::StepFunctions::StateMachine", "Training")
    template["Resources"][machine]["Properties"]["DefinitionString"] += " ${Forgotten}"
    # When provisioned, Then the error names the resource and the placeholder
    with pytest.raises(ResolutionError, match=rf"{machine} .*DefinitionSubstitutions.*\$\{{Forgotten\}}"):
        provision(template, endpoint_url=endpoint, stack_name=assembly.stack_name, asset_dir=assembly.directory)


def test_file_asset_definition_needs_the_assembly_folder(assembly: CloudAssembly, endpoint: str) -> None:
    with pytest.raises(ResolutionError, match=r"DefinitionS3Location.*pass asset_dir"):
        provision(assembly.template, endpoint_url=endpoint, stack_name=assembly.stack_name)
