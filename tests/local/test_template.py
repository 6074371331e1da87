"""The local runtime's resources come from the synthesized template (sagestep.local.template)."""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagestep.local.template import (
    NO_VALUE,
    CloudAssembly,
    PhysicalResource,
    ProvisionedStack,
    ResolutionError,
    SynthError,
    TemplateResolver,
    boto3_client_factory,
    dependency_order,
    provision,
    readable_id,
    synthesize,
    synthesize_assembly,
)
from tests.local.fixtures.stack import FAKE_APP, REGION, moto_server, synth_fixture_app

ACCOUNT = "123456789012"
STACK = "SagestepFixture"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return synth_fixture_app(tmp_path_factory)


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


# ---- synthesize ----------------------------------------------------------------------------------------


def test_synthesis_passes_the_cdk_json_context_like_the_cli(assembly: CloudAssembly) -> None:
    # Given the fixture app, whose cdk.json sets feature flags and `fixture:stage`
    # When it is synthesized (module fixture)
    template = assembly.template
    # Then the context reached the app: the value is in the template, and the feature flag
    # `disableCloudWatchRole` removed the API's CloudWatch role
    api_function = next(
        r
        for r in template["Resources"].values()
        if r.get("Properties", {}).get("Handler") == "fixture_service.handlers.api"
    )
    assert api_function["Properties"]["Environment"]["Variables"]["STAGE"] == "test"
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"]
    # and construct paths are recorded, as `cdk synth` records them
    assert api_function["Metadata"]["aws:cdk:path"] == f"{STACK}/Api/Resource"
    assert assembly.stack_name == STACK


def test_second_synthesis_of_the_same_sources_is_read_from_the_cache(
    assembly: CloudAssembly, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given an app synthesized once
    # When it is synthesized again with the same sources and context
    started = time.perf_counter()
    again = synth_fixture_app(tmp_path_factory)
    elapsed = time.perf_counter() - started
    # Then the cached assembly is returned without running the app
    assert again.cached
    assert again.directory == assembly.directory
    assert again.template == assembly.template
    assert elapsed < 1.0


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FAKE_APP, app)
    return app


def runs(app: Path) -> int:
    return len((app / "runs.log").read_text().splitlines()) if (app / "runs.log").exists() else 0


def test_cache_is_invalidated_by_a_source_change_and_by_the_context(fake_app: Path, tmp_path: Path) -> None:
    # Given a (fake, instant) CDK app synthesized once
    out = tmp_path / "out"
    first = synthesize_assembly(fake_app, out)
    assert (first.cached, runs(fake_app)) == (False, 1)
    # When nothing changes, Then the app does not run again
    assert synthesize_assembly(fake_app, out).cached
    assert runs(fake_app) == 1
    # When a file under stacks/ changes, Then it runs again
    (fake_app / "stacks" / "fake_stack.py").write_text('"""changed"""\n')
    assert not synthesize_assembly(fake_app, out).cached
    assert runs(fake_app) == 2
    # When the context changes, Then it runs again and the context wins over cdk.json
    template = synthesize(fake_app, out, {"fake:value": "from-caller"})
    assert runs(fake_app) == 3
    assert template["Resources"]["Setting"]["Properties"]["Value"] == "from-caller"
    context = json.loads(template["Outputs"]["Context"]["Value"])
    assert context["fake:other"] == 1
    assert context["aws:cdk:bundling-stacks"] == []


def test_failing_app_raises_synth_error_with_its_output(fake_app: Path, tmp_path: Path) -> None:
    # Given an app that fails
    # When it is synthesized
    with pytest.raises(SynthError) as raised:
        synthesize(fake_app, tmp_path / "out", {"fake:fail": True})
    # Then the error carries the app's message, and no assembly is left behind
    assert "the fake app was asked to fail" in str(raised.value)
    assert not list((tmp_path / "out").glob("assembly-*"))


def test_unknown_stack_name_is_refused(fake_app: Path, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="'Other' not in the app"):
        synthesize(fake_app, tmp_path / "out", stack_name="Other")


# ---- intrinsic functions -------------------------------------------------------------------------------

RESOLVER_TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
    "Conditions": {
        "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
    },
    "Resources": {
        "Table1A2B3C4D": {"Type": "AWS::DynamoDB::Table"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    },
}


@pytest.fixture
def resolver() -> TemplateResolver:
    physical = {
        "Table1A2B3C4D": PhysicalResource(
            "Table1A2B3C4D", "AWS::DynamoDB::Table", "jobs", {"Arn": "arn:aws:dynamodb:r:1:table/jobs"}
        )
    }
    return TemplateResolver(RESOLVER_TEMPLATE, physical, region="eu-west-1", account_id=ACCOUNT, stack_name="S")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Table1A2B3C4D"}, "jobs"),
        ({"Fn::GetAtt": ["Table1A2B3C4D", "Arn"]}, "arn:aws:dynamodb:r:1:table/jobs"),
        ({"Fn::GetAtt": "Table1A2B3C4D.Arn"}, "arn:aws:dynamodb:r:1:table/jobs"),
        ({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":", {"Ref": "AWS::Region"}]]}, "arn:aws:eu-west-1"),
        (
            {"Fn::Sub": "${AWS::StackName}-${Table1A2B3C4D}-${Table1A2B3C4D.Arn}"},
            "S-jobs-arn:aws:dynamodb:r:1:table/jobs",
        ),
        (
            {"Fn::Sub": ["${Name}.${AWS::URLSuffix} ${!Literal}", {"Name": {"Ref": "Stage"}}]},
            "dev.amazonaws.com ${Literal}",
        ),
        ({"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}, "b"),
        ({"Fn::Select": [0, {"Ref": "Zones"}]}, "a"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 256),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Ref": "AWS::AccountId"}, ACCOUNT),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}, "arn:aws:s3:::x"),
    ],
)
def test_intrinsic_functions_resolve(resolver: TemplateResolver, expression: Any, expected: Any) -> None:
    assert resolver.resolve(expression, "Test") == expected


def test_no_value_removes_the_property_or_item(resolver: TemplateResolver) -> None:
    value = {"Keep": 1, "Drop": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, 2]}, "List": [1, {"Ref": "AWS::NoValue"}]}
    assert resolver.resolve(value, "Test") == {"Keep": 1, "List": [1]}
    assert resolver.resolve({"Ref": "AWS::NoValue"}, "Test") is NO_VALUE
    assert resolver.condition("Either")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Fn::GetAtt": ["Table1A2B3C4D", "StreamArn"]}, r"Table1A2B3C4D\.StreamArn is not available locally"),
        ({"Ref": "Missing"}, "unknown resource or parameter 'Missing'"),
        ({"Fn::ImportValue": "Shared"}, "Fn::ImportValue is not supported locally"),
        ({"Ref": "Fn"}, "Fn .AWS::Lambda::Function. has no local value yet"),
    ],
)
def test_unresolvable_expressions_name_the_resource_and_property(
    resolver: TemplateResolver, expression: Any, message: str
) -> None:
    with pytest.raises(ResolutionError, match=message) as raised:
        resolver.resolve({"Variables": {"X": expression}}, "Resources.Api.Properties.Environment")
    assert "Resources.Api.Properties.Environment.Variables.X" in str(raised.value)


def test_dependency_order_puts_referenced_resources_first() -> None:
    template = {
        "Resources": {
            "Machine": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${Fn.Arn} ${Table}"}}},
            "Fn": {"Type": "T", "Properties": {"Env": {"Ref": "Table"}}, "DependsOn": "Role"},
            "Table": {"Type": "T"},
            "Role": {"Type": "T"},
        }
    }
    order = dependency_order(template)
    assert order.index("Table") < order.index("Fn") < order.index("Machine")
    assert order.index("Role") < order.index("Fn")


def test_readable_ids_drop_the_cdk_hash() -> None:
    assert readable_id("JobsTable1970BC16") == "JobsTable"
    assert readable_id("Admins") == "Admins"


# ---- provision -----------------------------------------------------------------------------------------


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
