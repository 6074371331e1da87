"""CloudFormation's and the CDK's own resource types: skipped, they have no effect a local run needs.

Custom resources (`Custom::*`) run provider functions the local runtime does not run; those whose effect
matters are handled by their service's module (e.g. `Custom::S3BucketNotifications` in `s3`).
"""

from __future__ import annotations

from sagestep.local.cloudformation.registry import Service

SERVICE = Service(
    skipped={
        "AWS::CDK::Metadata": "the CDK's version report",
        "AWS::CloudFormation::CustomResource": "provider functions of custom resources are not run locally",
        "AWS::CloudFormation::WaitCondition": "nothing signals a local stack",
        "AWS::CloudFormation::WaitConditionHandle": "nothing signals a local stack",
    }
)
