"""The local runtime's resources, read from the synthesized CloudFormation template of the real stack.

Nothing is described twice: tables, indexes, topics, queues, buckets, rules, state machines, the user
pool and the API routes are created from the template `cdk deploy` would deploy, so the local mode cannot
drift from the cloud.

- `assembly`: `synthesize` runs the CDK app (with the context the CDK CLI would give it) and returns the
  stack's template, cached by a hash of the app's sources.
- `resolver`: `TemplateResolver` evaluates intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...)
  against the local physical values of the resources.
- `provisioner`: `provision` creates the resources in a moto server in dependency order, each through the
  handler its service module under `resources/` registered, and returns a `ProvisionedStack` (`specs`):
  physical ids, the Lambda functions to register in-process, the REST API route tables and the outputs.
"""

from sagestep.local.cloudformation.assembly import CLI_DEFAULT_CONTEXT, CloudAssembly, synthesize, synthesize_assembly
from sagestep.local.cloudformation.errors import ProvisionError, ResolutionError, SynthError, TemplateError
from sagestep.local.cloudformation.provisioner import REGISTRY, boto3_client_factory, provision
from sagestep.local.cloudformation.resolver import (
    DEFAULT_ACCOUNT_ID,
    NO_VALUE,
    PhysicalResource,
    TemplateResolver,
    dependency_order,
    readable_id,
    references,
)
from sagestep.local.cloudformation.specs import (
    CognitoAuthorizerSpec,
    EventSourceMappingSpec,
    FunctionSpec,
    GatewayResponseSpec,
    IntegrationSpec,
    ProvisionedStack,
    RestApiSpec,
    Route,
    UserPoolSpec,
)

__all__ = [
    "CLI_DEFAULT_CONTEXT",
    "DEFAULT_ACCOUNT_ID",
    "NO_VALUE",
    "REGISTRY",
    "CloudAssembly",
    "CognitoAuthorizerSpec",
    "EventSourceMappingSpec",
    "FunctionSpec",
    "GatewayResponseSpec",
    "IntegrationSpec",
    "PhysicalResource",
    "ProvisionError",
    "ProvisionedStack",
    "ResolutionError",
    "RestApiSpec",
    "Route",
    "SynthError",
    "TemplateError",
    "TemplateResolver",
    "UserPoolSpec",
    "boto3_client_factory",
    "dependency_order",
    "provision",
    "readable_id",
    "references",
    "synthesize",
    "synthesize_assembly",
]
