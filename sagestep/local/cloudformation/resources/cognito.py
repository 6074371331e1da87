"""Cognito user pools, app clients, groups and resource servers in moto, found again on restart by name."""

from __future__ import annotations

from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, error_code
from sagestep.local.cloudformation.errors import ProvisionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import URL_SUFFIX, PhysicalResource
from sagestep.local.cloudformation.specs import UserPoolSpec

_USER_POOL_KEYS = (
    "Policies",
    "DeletionProtection",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "Schema",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
)
_USER_POOL_CLIENT_KEYS = (
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
)


def user_pool(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    cognito = ctx.clients("cognito-idp")
    name = ctx.name(logical_id, props, "AWS::Cognito::UserPool")
    pool_id = None
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                pool_id = pool["Id"]
    if pool_id is None:
        request: dict[str, Any] = {"PoolName": name}
        for key in _USER_POOL_KEYS:
            value = ctx.prop(logical_id, props, key)
            if value is not None:
                request[key] = value
        if "LambdaConfig" in props:
            ctx.warn(f"{logical_id}: user pool Lambda triggers are not run locally")
        pool_id = ctx.call(logical_id, "create_user_pool", cognito.create_user_pool, **request)["UserPool"]["Id"]
    arn = ctx.arn("cognito-idp", f"userpool/{pool_id}")
    provider = f"cognito-idp.{ctx.region}.{URL_SUFFIX}/{pool_id}"
    ctx.result.user_pools[logical_id] = UserPoolSpec(logical_id, pool_id, arn, name, {})
    attributes = {"Arn": arn, "ProviderName": provider, "ProviderURL": f"https://{provider}", "UserPoolId": pool_id}
    return PhysicalResource(logical_id, "AWS::Cognito::UserPool", pool_id, attributes, created=True)


def user_pool_client(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    cognito = ctx.clients("cognito-idp")
    pool_id = str(ctx.prop(logical_id, props, "UserPoolId"))
    name = ctx.name(logical_id, props, "AWS::Cognito::UserPoolClient")
    client: dict[str, Any] | None = None
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for summary in page.get("UserPoolClients", []):
            if summary["ClientName"] == name:
                client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=summary["ClientId"])[
                    "UserPoolClient"
                ]
    if client is None:
        request: dict[str, Any] = {"UserPoolId": pool_id, "ClientName": name}
        for key in _USER_POOL_CLIENT_KEYS:
            value = ctx.prop(logical_id, props, key)
            if value is not None:
                request[key] = value
        client = ctx.call(logical_id, "create_user_pool_client", cognito.create_user_pool_client, **request)[
            "UserPoolClient"
        ]
    assert client is not None
    client_id = str(client["ClientId"])
    for pool_logical_id, pool in ctx.result.user_pools.items():
        if pool.user_pool_id == pool_id:
            ctx.result.user_pools[pool_logical_id] = UserPoolSpec(
                pool.logical_id, pool.user_pool_id, pool.arn, pool.name, {**pool.client_ids, logical_id: client_id}
            )
    attributes = {"ClientId": client_id, "Name": name, "ClientSecret": client.get("ClientSecret", "")}
    return PhysicalResource(logical_id, "AWS::Cognito::UserPoolClient", client_id, attributes, created=True)


def user_pool_group(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    cognito = ctx.clients("cognito-idp")
    name = str(ctx.prop(logical_id, props, "GroupName") or ctx.readable[logical_id])
    request: dict[str, Any] = {"GroupName": name, "UserPoolId": ctx.prop(logical_id, props, "UserPoolId")}
    for key in ("Description", "Precedence", "RoleArn"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            request[key] = value
    try:
        cognito.create_group(**request)
    except Exception as exc:
        if error_code(exc) != "GroupExistsException":
            raise ProvisionError(f"{ctx.where(logical_id)}: create_group {name} failed: {exc}") from exc
    return PhysicalResource(logical_id, "AWS::Cognito::UserPoolGroup", name, {}, created=True)


def user_pool_resource_server(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    cognito = ctx.clients("cognito-idp")
    identifier = str(ctx.prop(logical_id, props, "Identifier"))
    request: dict[str, Any] = {
        "UserPoolId": ctx.prop(logical_id, props, "UserPoolId"),
        "Identifier": identifier,
        "Name": ctx.prop(logical_id, props, "Name", identifier),
    }
    scopes = ctx.prop(logical_id, props, "Scopes")
    if scopes:
        request["Scopes"] = scopes
    try:
        cognito.describe_resource_server(UserPoolId=request["UserPoolId"], Identifier=identifier)
    except Exception:
        ctx.call(logical_id, "create_resource_server", cognito.create_resource_server, **request)
    return PhysicalResource(logical_id, "AWS::Cognito::UserPoolResourceServer", identifier, {}, created=True)


_HOSTED_UI = "the hosted UI is not served locally"

SERVICE = Service(
    handlers={
        "AWS::Cognito::UserPool": user_pool,
        "AWS::Cognito::UserPoolClient": user_pool_client,
        "AWS::Cognito::UserPoolGroup": user_pool_group,
        "AWS::Cognito::UserPoolResourceServer": user_pool_resource_server,
    },
    skipped={
        "AWS::Cognito::UserPoolDomain": _HOSTED_UI,
        "AWS::Cognito::UserPoolUICustomizationAttachment": _HOSTED_UI,
        "AWS::Cognito::UserPoolRiskConfigurationAttachment": "advanced security is not emulated",
    },
    names={
        "AWS::Cognito::UserPool": NameRule("UserPoolName", 128),
        "AWS::Cognito::UserPoolClient": NameRule("ClientName", 128),
    },
)
