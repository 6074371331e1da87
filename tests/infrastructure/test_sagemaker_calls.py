"""The SageMaker calls of the inlined training definition (`sagestep:sagemaker:*` expanded) and the state machine
role's grants: every read the expansion adds (ListTags of what a lost create made, Describe* of the job it started)
is allowed on the resource types it reads."""

from __future__ import annotations

import json
import re

from stacks.platform import sagemaker_calls
from tests.infrastructure.synthesis import Synth, as_list, flatten

SAGEMAKER_RESOURCE = re.compile(r":sagemaker:<AWS::Region>:<AWS::AccountId>:([a-z-]+)/")


def test_every_read_of_a_sagemaker_call_is_granted_on_the_resources_it_reads(synth: Synth) -> None:
    # Given the training state machine's inlined definition and its role's SageMaker grants
    [(_, state_machine)] = [
        (logical_id, resource)
        for logical_id, resource in synth.resources("AWS::StepFunctions::StateMachine").items()
        if "training" in json.dumps(resource["Properties"]["StateMachineName"])
    ]
    states = json.loads(state_machine["Properties"]["DefinitionString"])["States"]
    role_id = state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    granted: dict[str, set[str]] = {}
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            types = {m for r in as_list(statement["Resource"]) for m in SAGEMAKER_RESOURCE.findall(flatten(r))}
            for action in as_list(statement["Action"]):
                granted.setdefault(action, set()).update(types)
    # When the reads the expansion added are listed with the resource types they read
    reads: dict[str, set[str]] = {}
    for name, state in states.items():
        resource = state.get("Resource", "")
        if resource.startswith(sagemaker_calls.AWS_SDK_PREFIX):
            action = "sagemaker:" + resource.removeprefix(sagemaker_calls.AWS_SDK_PREFIX)[:1].upper()
            action += resource.removeprefix(sagemaker_calls.AWS_SDK_PREFIX)[1:]
            arn = json.dumps(state["Parameters"])
            types = set(re.findall(r":sagemaker:\{\}:\{\}:([a-z-]+)/", arn))
            if "TrainingJobName.$" in state["Parameters"]:
                types.add("training-job")
            if "HyperParameterTuningJobName.$" in state["Parameters"]:
                types.add("hyper-parameter-tuning-job")
            assert types, name
            reads.setdefault(action, set()).update(types)
    # Then there are some, and each is granted on every type it reads
    assert set(reads) == {
        "sagemaker:ListTags",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:DescribeHyperParameterTuningJob",
    }
    assert reads["sagemaker:ListTags"] == {
        "training-job",
        "hyper-parameter-tuning-job",
        "model",
        "endpoint-config",
        "endpoint",
    }
    for action, types in reads.items():
        assert types <= granted.get(action, set()), f"{action} not granted on {types - granted.get(action, set())}"
