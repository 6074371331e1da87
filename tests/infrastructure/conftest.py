"""The synthesized app, once per session for every module of this folder."""

from __future__ import annotations

import pytest

from tests.infrastructure.synthesis import Synth, synthesize


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default configuration (cdk.json)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def synth_variant(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every optional switch flipped: the conditional cdk-nag acknowledgements must still add up."""
    return synthesize(
        tmp_path_factory.mktemp("cdk.out.variant"),
        {
            "removalPolicy": "destroy",
            "corsAllowOrigins": ["https://notebooks.example.com"],
            "requireMfa": True,
            "cognitoFeaturePlan": "plus",
            "apiWebAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/sagestep/0123",
            "apiCloudWatchRole": False,
            "powertoolsLayerVersion": 38,
            "trainingImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagestep-training:1",
        },
    )
