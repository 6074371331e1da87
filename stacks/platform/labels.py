"""Template metadata that names what a resource is for (read by the local runtime and by reviewers)."""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct

from stacks.platform import constants


def label(construct: IConstruct, name: str) -> None:
    """Add `Metadata: {"sagestep:name": name}` to the construct's CloudFormation resource.

    Logical ids carry a hash of the construct path; this name stays stable and is unique in the stack.
    """
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to label")
    resource.add_metadata(constants.METADATA_KEY, name)
