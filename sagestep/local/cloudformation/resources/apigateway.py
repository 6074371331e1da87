"""API Gateway REST APIs: nothing is created in moto; the route tables (`RestApiSpec`) the local gateway
serves are derived from the template's resources, methods, authorizers, validators and gateway responses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sagestep.local.cloudformation.context import StackContext, attempt
from sagestep.local.cloudformation.errors import ResolutionError, TemplateError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, local_id, references
from sagestep.local.cloudformation.specs import (
    CognitoAuthorizerSpec,
    GatewayResponseSpec,
    IntegrationSpec,
    RestApiSpec,
    Route,
)


def derived(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    """A resource the route tables are read from: deterministic local ids, nothing created."""
    resource_type = ctx.resources[logical_id]["Type"]
    local = local_id(ctx.stack_name, logical_id)
    attributes: dict[str, Any] = {}
    ref: Any = local
    if resource_type == "AWS::ApiGateway::RestApi":
        attributes = {"RootResourceId": local_id(ctx.stack_name, logical_id, "root")}
    elif resource_type == "AWS::ApiGateway::Stage":
        ref = ctx.prop(logical_id, props, "StageName", local)
    elif resource_type == "AWS::ApiGateway::Authorizer":
        attributes = {"AuthorizerId": local}
    elif resource_type == "AWS::ApiGateway::Resource":
        attributes = {"ResourceId": local}
    return PhysicalResource(logical_id, resource_type, ref, attributes)


def rest_apis(ctx: StackContext) -> None:
    """The route table of every REST API of the stack, into `ProvisionedStack.rest_apis`."""
    for logical_id, declaration in ctx.resources.items():
        if declaration.get("Type") == "AWS::ApiGateway::RestApi" and logical_id in ctx.result.resources:
            ctx.result.rest_apis[logical_id] = _rest_api(ctx, logical_id)


def _rest_api(ctx: StackContext, api_logical_id: str) -> RestApiSpec:
    """The route table of a REST API, from its Resource parent chain and its Methods."""
    api_props = ctx.resources[api_logical_id].get("Properties", {})
    if "Body" in api_props or "BodyS3Location" in api_props:
        ctx.warn(f"{api_logical_id}: REST APIs defined by an OpenAPI body are not served locally")

    def of_api(resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, declaration in ctx.resources.items():
            props = declaration.get("Properties", {})
            if (
                declaration.get("Type") == resource_type
                and logical_id in ctx.result.resources
                and logical_id not in ctx.result.skipped
                and references(props.get("RestApiId")) == {api_logical_id}
            ):
                yield logical_id, props

    paths: dict[str, str] = {}
    resources = dict(of_api("AWS::ApiGateway::Resource"))

    def path_of(parent: Any, where: str, seen: tuple[str, ...] = ()) -> str:
        if isinstance(parent, dict) and "Fn::GetAtt" in parent:
            return ""  # the root resource
        if isinstance(parent, dict) and parent.get("Ref") in resources:
            resource_id = parent["Ref"]
            if resource_id in seen:
                raise TemplateError(f"{where}: resource cycle {seen}")
            if resource_id not in paths:
                props = resources[resource_id]
                part = ctx.resolver.resolve_string(props["PathPart"], ctx.where(resource_id, "PathPart"))
                paths[resource_id] = path_of(props["ParentId"], where, (*seen, resource_id)) + "/" + part
            return paths[resource_id]
        raise ResolutionError(f"{where}: cannot follow the resource parent {parent!r}")

    authorizers = {
        logical_id: _cognito_authorizer(ctx, logical_id, props)
        for logical_id, props in of_api("AWS::ApiGateway::Authorizer")
    }
    validating_parameters = {
        logical_id
        for logical_id, props in of_api("AWS::ApiGateway::RequestValidator")
        if ctx.prop(logical_id, props, "ValidateRequestParameters")
    }
    routes: list[Route] = []
    for logical_id, props in of_api("AWS::ApiGateway::Method"):
        where = ctx.where(logical_id)
        path = path_of(props["ResourceId"], f"{where}.Properties.ResourceId") or "/"
        authorization_type = str(ctx.prop(logical_id, props, "AuthorizationType", "NONE"))
        authorizer_ref = references(props.get("AuthorizerId"))
        authorizer = next((authorizers[a] for a in authorizer_ref if a in authorizers), None)
        if authorization_type == "COGNITO_USER_POOLS" and (authorizer is None or not authorizer.user_pool_ids):
            ctx.warn(f"{logical_id}: COGNITO_USER_POOLS method without a usable Cognito authorizer")
        if authorization_type in ("AWS_IAM", "CUSTOM"):
            ctx.warn(f"{logical_id}: {authorization_type} authorization is not enforced locally")
        required: tuple[tuple[str, str], ...] = ()
        if references(props.get("RequestValidatorId")) & validating_parameters:
            required = tuple(
                (parts[2], parts[3])
                for key, value in (ctx.prop(logical_id, props, "RequestParameters", {}) or {}).items()
                if value in (True, "true") and len(parts := key.split(".", 3)) == 4
            )
        if props.get("RequestModels") and props.get("RequestValidatorId"):
            ctx.warn(f"{logical_id}: request body models are not validated locally")
        routes.append(
            Route(
                method=str(ctx.prop(logical_id, props, "HttpMethod")).upper(),
                path=path,
                authorization_type=authorization_type,
                integration=_integration(ctx, logical_id, props),
                authorizer=authorizer if authorization_type == "COGNITO_USER_POOLS" else None,
                authorization_scopes=tuple(ctx.prop(logical_id, props, "AuthorizationScopes", []) or []),
                required_parameters=required,
                resource_id=str(ctx.resolver.resolve(props["ResourceId"], f"{where}.Properties.ResourceId")),
                method_logical_id=logical_id,
            )
        )
    stage_name = next(
        (str(ctx.result.resources[k].ref) for k, _ in of_api("AWS::ApiGateway::Stage")),
        "prod",
    )
    responses: dict[str, GatewayResponseSpec] = {}
    for logical_id, props in of_api("AWS::ApiGateway::GatewayResponse"):
        response_type = str(ctx.prop(logical_id, props, "ResponseType"))
        status = ctx.prop(logical_id, props, "StatusCode")
        headers = tuple(
            (key.rsplit(".", 1)[-1], str(value).strip("'"))
            for key, value in (ctx.prop(logical_id, props, "ResponseParameters", {}) or {}).items()
            if key.startswith("gatewayresponse.header.") and str(value).startswith("'")
        )
        responses[response_type] = GatewayResponseSpec(response_type, int(status) if status else None, headers)
    routes.sort(key=lambda r: (r.path, r.method))
    return RestApiSpec(
        logical_id=api_logical_id,
        api_id=str(ctx.result.resources[api_logical_id].ref),
        name=str(ctx.prop(api_logical_id, api_props, "Name", api_logical_id)),
        stage_name=stage_name,
        routes=tuple(routes),
        binary_media_types=tuple(ctx.prop(api_logical_id, api_props, "BinaryMediaTypes", []) or []),
        gateway_responses=responses,
    )


def _cognito_authorizer(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> CognitoAuthorizerSpec:
    authorizer_type = ctx.prop(logical_id, props, "Type")
    source = str(ctx.prop(logical_id, props, "IdentitySource", "method.request.header.Authorization"))
    header = source.split("method.request.header.", 1)[1] if "method.request.header." in source else "Authorization"
    if authorizer_type != "COGNITO_USER_POOLS":
        return CognitoAuthorizerSpec(logical_id, str(ctx.prop(logical_id, props, "Name", logical_id)), (), (), header)
    arns = tuple(str(a) for a in ctx.prop(logical_id, props, "ProviderARNs", []) or [])
    return CognitoAuthorizerSpec(
        logical_id=logical_id,
        name=str(ctx.prop(logical_id, props, "Name", logical_id)),
        user_pool_arns=arns,
        user_pool_ids=tuple(arn.rsplit("/", 1)[-1] for arn in arns),
        identity_header=header,
        identity_validation_expression=ctx.prop(logical_id, props, "IdentityValidationExpression"),
    )


def _integration(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> IntegrationSpec:
    integration = props.get("Integration", {})
    integration_type = str(ctx.resolver.resolve(integration.get("Type", "MOCK"), ctx.where(logical_id, "Integration")))
    if integration_type == "AWS_PROXY":
        functions = [
            r
            for r in references(integration.get("Uri"))
            if ctx.resources.get(r, {}).get("Type") == "AWS::Lambda::Function"
        ]
        if len(functions) == 1:
            return IntegrationSpec("AWS_PROXY", function_logical_id=functions[0])
        uri = attempt(lambda: ctx.prop(logical_id, {"Uri": integration.get("Uri")}, "Uri"), "")
        for spec in ctx.result.functions.values():
            if spec.arn in str(uri):
                return IntegrationSpec("AWS_PROXY", function_logical_id=spec.logical_id)
        ctx.warn(f"{logical_id}: AWS_PROXY integration target {uri!r} is not a function of this stack")
        return IntegrationSpec("AWS_PROXY")
    if integration_type == "MOCK":
        responses = ctx.resolver.resolve(
            integration.get("IntegrationResponses", []), ctx.where(logical_id, "Integration.IntegrationResponses")
        )
        default = next((r for r in responses if not r.get("SelectionPattern")), responses[0] if responses else {})
        headers = tuple(
            (key.rsplit(".", 1)[-1], str(value).strip("'"))
            for key, value in (default.get("ResponseParameters") or {}).items()
            if key.startswith("method.response.header.") and str(value).startswith("'")
        )
        return IntegrationSpec("MOCK", mock_status=int(default.get("StatusCode", 200)), mock_headers=headers)
    ctx.warn(f"{logical_id}: {integration_type} integrations are not served locally")
    return IntegrationSpec(integration_type)


_NOT_SERVED = "the local gateway serves the route table only"

SERVICE = Service(
    handlers=dict.fromkeys(
        (
            "AWS::ApiGateway::RestApi",
            "AWS::ApiGateway::Resource",
            "AWS::ApiGateway::Method",
            "AWS::ApiGateway::Stage",
            "AWS::ApiGateway::Authorizer",
            "AWS::ApiGateway::GatewayResponse",
            "AWS::ApiGateway::RequestValidator",
        ),
        derived,
    ),
    skipped=dict.fromkeys(
        (
            "AWS::ApiGateway::Account",
            "AWS::ApiGateway::Deployment",
            "AWS::ApiGateway::Model",
            "AWS::ApiGateway::UsagePlan",
            "AWS::ApiGateway::UsagePlanKey",
            "AWS::ApiGateway::ApiKey",
            "AWS::ApiGateway::BasePathMapping",
            "AWS::ApiGateway::DomainName",
        ),
        _NOT_SERVED,
    ),
    finish=rest_apis,
)
