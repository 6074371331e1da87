"""The AWS-managed Lambda layer "AWS SDK for pandas" (awswrangler; brings pyarrow) for Python 3.11 on arm64, per
region sagestep's labeling workflow serves (Ground Truth's regions, ``ground_truth.LAMBDA_ACCOUNTS``).

Source: aws/aws-sdk-pandas ``docs/source/layers.rst`` ("AWS Lambda Managed Layers", the table for library version
3.4.0, whose Python 3.11 arm64 layers are version 2 in all twelve regions; owner account 336392948345). The layer
version number differs per region and grows with every release (the stable docs page, for 3.16.1, lists e.g.
``af-south-1`` ``AWSSDKPandas-Python311-Arm64:30``); a deployment may name a newer one (``layer_arn(region,
version)``), looked up with ``aws lambda list-layer-versions --layer-name
arn:aws:lambda:<region>:336392948345:layer:AWSSDKPandas-Python311-Arm64``.
"""

from __future__ import annotations

LIBRARY_VERSION = "3.4.0"
ACCOUNT = "336392948345"
LAYER_NAME = "AWSSDKPandas-Python311-Arm64"

LAYER_ARNS: dict[str, str] = {
    region: f"arn:aws:lambda:{region}:{ACCOUNT}:layer:{LAYER_NAME}:2"
    for region in (
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
    )
}


def layer_arn(region: str, version: int | None = None) -> str:
    """The layer's ARN in a region (``version``: another layer version than the table's)."""
    if region not in LAYER_ARNS:
        raise ValueError(f"no AWS SDK for pandas layer known for {region!r} (regions: {', '.join(LAYER_ARNS)})")
    arn = LAYER_ARNS[region]
    return arn if version is None else f"{arn.rsplit(':', 1)[0]}:{version}"
