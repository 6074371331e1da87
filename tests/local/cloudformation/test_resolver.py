"""Intrinsic functions resolve against local physical values (cloudformation.resolver)."""

from __future__ import annotations

from typing import Any

import pytest

from sagestep.local.cloudformation import (
    NO_VALUE,
    PhysicalResource,
    ResolutionError,
    TemplateResolver,
    dependency_order,
    readable_id,
)

ACCOUNT = "123456789012"


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
