"""What provisioning a template returns: the stack's physical values and the specs the local runtime
builds on (Lambda functions to register in-process, REST API route tables, user pools, outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagestep.local.cloudformation.resolver import PhysicalResource


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the stack, for the runtime to register in-process.

    Attributes:
        logical_id: template logical id.
        function_name: local name (the template's `FunctionName`, else `{stack}-{readable logical id}`).
        arn: `arn:aws:lambda:{region}:{account}:function:{function_name}`.
        handler: the `Handler` string, e.g. `sagestep_service.platform.api.handler`.
        environment: resolved environment variables (local names and ARNs).
        runtime: e.g. `python3.11`.
        timeout_seconds: `Timeout` (CloudFormation default 3).
        memory_mb: `MemorySize` (default 128).
        construct_path: the construct path (`aws:cdk:path` metadata) when the template has it.
        metadata: the resource's template `Metadata` (e.g. sagestep's `sagestep:name`).
        async_retries: retries of a failed asynchronous invocation (`AWS::Lambda::EventInvokeConfig`
            `MaximumRetryAttempts`; AWS's default is 2).
        on_failure_arn: where an asynchronous invocation goes once its retries failed (the event invoke
            config's `DestinationConfig.OnFailure.Destination`, an SQS queue ARN), if anywhere.
    """

    logical_id: str
    function_name: str
    arn: str
    handler: str
    environment: dict[str, str]
    runtime: str | None = None
    timeout_seconds: int = 3
    memory_mb: int = 128
    construct_path: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    async_retries: int = 2
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An `AWS::Lambda::EventSourceMapping`; the local runtime polls the SQS ones (`sagestep.local.event_sources`).

    Attributes:
        function_logical_id: the mapped function of the stack, if the template defines it.
        function_name: its local name.
        event_source_arn: e.g. `arn:aws:sqs:{region}:{account}:{queue}`.
        batch_size: `BatchSize` (None: AWS's default, 10 for SQS).
        enabled: `Enabled` (default true).
        function_response_types: `FunctionResponseTypes`, e.g. `("ReportBatchItemFailures",)`: the function
            answers `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}` and only those messages are retried.
        maximum_batching_window_seconds: `MaximumBatchingWindowInSeconds`: how long to gather a batch (0: send
            what one receive returns).
    """

    logical_id: str
    function_logical_id: str | None
    function_name: str
    event_source_arn: str
    batch_size: int | None
    enabled: bool
    function_response_types: tuple[str, ...] = ()
    maximum_batching_window_seconds: int = 0


@dataclass(frozen=True)
class CognitoAuthorizerSpec:
    """A `COGNITO_USER_POOLS` authorizer of a REST API.

    Attributes:
        identity_header: the request header carrying the token (from `IdentitySource`).
        user_pool_ids: local ids of the user pools in `ProviderARNs`.
    """

    logical_id: str
    name: str
    user_pool_arns: tuple[str, ...]
    user_pool_ids: tuple[str, ...]
    identity_header: str = "Authorization"
    identity_validation_expression: str | None = None


@dataclass(frozen=True)
class IntegrationSpec:
    """A method's integration.

    Attributes:
        type: `AWS_PROXY`, `MOCK`, or another type (not served locally).
        function_logical_id: the Lambda function of an `AWS_PROXY` integration.
        mock_status: the status code a `MOCK` integration answers.
        mock_headers: static response headers of a `MOCK` integration (CORS preflight).
    """

    type: str
    function_logical_id: str | None = None
    mock_status: int = 200
    mock_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Route:
    """One method of a REST API: `(method, path)` -> authorization and integration.

    Attributes:
        method: `GET`, `POST`, ... or `ANY`.
        path: the resource path template, e.g. `/model/{jobId}` or `/files/{proxy+}`.
        authorization_type: `NONE`, `COGNITO_USER_POOLS`, `AWS_IAM` or `CUSTOM`.
        authorizer: the Cognito authorizer when `authorization_type` is `COGNITO_USER_POOLS`.
        authorization_scopes: OAuth scopes (a Cognito authorizer then wants an access token).
        required_parameters: `(location, name)` pairs a request validator requires, location one of
            `header`, `querystring`, `path`, `multivalueheader`, `multivaluequerystring`.
        resource_id, method_logical_id: local id of the resource, logical id of the method.
    """

    method: str
    path: str
    authorization_type: str
    integration: IntegrationSpec
    authorizer: CognitoAuthorizerSpec | None = None
    authorization_scopes: tuple[str, ...] = ()
    required_parameters: tuple[tuple[str, str], ...] = ()
    resource_id: str = ""
    method_logical_id: str = ""

    @property
    def function_logical_id(self) -> str | None:
        return self.integration.function_logical_id

    @property
    def user_pool_ids(self) -> tuple[str, ...]:
        return self.authorizer.user_pool_ids if self.authorizer else ()


@dataclass(frozen=True)
class GatewayResponseSpec:
    """An `AWS::ApiGateway::GatewayResponse`: status and static headers for a response type."""

    response_type: str
    status_code: int | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RestApiSpec:
    """A REST API derived from the template (not created in moto).

    Attributes:
        api_id: a deterministic local id (what `Ref` of the API returns).
        stage_name: the deployed stage (`AWS::ApiGateway::Stage`), `prod` if none.
        routes: the route table.
        binary_media_types: `BinaryMediaTypes` (request bodies of these types are base64-encoded).
        gateway_responses: by response type (`UNAUTHORIZED`, `DEFAULT_4XX`, ...).
    """

    logical_id: str
    api_id: str
    name: str
    stage_name: str
    routes: tuple[Route, ...]
    binary_media_types: tuple[str, ...] = ()
    gateway_responses: Mapping[str, GatewayResponseSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class UserPoolSpec:
    """A Cognito user pool created in moto, with its clients (logical id -> client id)."""

    logical_id: str
    user_pool_id: str
    arn: str
    name: str
    client_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ProvisionedStack:
    """What `provision` created or derived.

    Attributes:
        stack_name, region, account_id: the pseudo parameters used.
        resources: logical id -> physical values, for every resource (created or placeholder).
        functions: logical id -> Lambda function to register in-process.
        event_source_mappings: logical id -> event source mapping.
        rest_apis: logical id -> REST API route table.
        user_pools: logical id -> user pool.
        outputs: resolved stack outputs (an output that cannot be resolved locally is left out, with a
            warning).
        skipped: logical id -> type, for resources with no local counterpart.
        warnings: unknown resource types and other things a user should know.
    """

    stack_name: str
    region: str
    account_id: str
    resources: dict[str, PhysicalResource] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_source_mappings: dict[str, EventSourceMappingSpec] = field(default_factory=dict)
    rest_apis: dict[str, RestApiSpec] = field(default_factory=dict)
    user_pools: dict[str, UserPoolSpec] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> Any:
        """What `Ref` of the resource returns locally."""
        return self.resources[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> Any:
        """What `Fn::GetAtt` of the resource returns locally."""
        return self.resources[logical_id].attributes[name]

    def of_type(self, resource_type: str) -> dict[str, PhysicalResource]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.resources.items() if v.type == resource_type}

    def function_by_name(self, function_name: str) -> FunctionSpec:
        for spec in self.functions.values():
            if function_name in (spec.function_name, spec.arn):
                return spec
        raise KeyError(function_name)

    @property
    def rest_api(self) -> RestApiSpec:
        """The stack's only REST API."""
        if len(self.rest_apis) != 1:
            raise LookupError(f"the stack has {len(self.rest_apis)} REST APIs: use rest_apis")
        return next(iter(self.rest_apis.values()))

    @property
    def user_pool(self) -> UserPoolSpec:
        """The stack's only user pool, or (a stack with several, e.g. a Ground Truth workforce's) the one its only
        REST API's routes authorize against."""
        if len(self.user_pools) == 1:
            return next(iter(self.user_pools.values()))
        if len(self.rest_apis) == 1:
            used = {pool for route in self.rest_api.routes for pool in route.user_pool_ids}
            pools = [spec for spec in self.user_pools.values() if spec.user_pool_id in used]
            if len(pools) == 1:
                return pools[0]
        raise LookupError(f"the stack has {len(self.user_pools)} user pools: use user_pools")
