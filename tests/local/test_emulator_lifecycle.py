"""LocalAws start/stop: nothing is left behind (processes, port, environment, moto changes)."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import tarfile
import time
from pathlib import Path

import pytest
from moto.awslambda.models import LambdaFunction
from moto.sagemaker.models import SageMakerModelBackend

from sagestep.local.emulator import LocalAws
from sagestep.local.services.sagemaker import SageMakerEmulator

IMAGE = "fake-training:latest"
FAKE_CONTAINER = [sys.executable, str(Path(__file__).parent / "fake_container" / "container.py")]
ROLE = "arn:aws:iam::123456789012:role/sagestep-sagemaker"


def descendants(pid: int) -> set[int]:
    """Live (non-zombie) descendant processes of ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_stop_kills_containers_and_restores_the_process() -> None:
    environment = dict(os.environ)
    before = descendants(os.getpid())
    aws = LocalAws(services=[SageMakerEmulator(container_commands={IMAGE: FAKE_CONTAINER}, endpoint_start_timeout=20)])
    aws.start()
    port = aws.port
    try:
        with pytest.raises(RuntimeError, match="another LocalAws"):
            LocalAws().start()
        # Given a serving endpoint, a running training job and an execution waiting for a token
        s3, sagemaker = aws.client("s3"), aws.client("sagemaker")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="train/a.csv", Body=b"1,2\n")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo("model.json")
            info.size = len(b'{"bias": 0}')
            archive.addfile(info, io.BytesIO(b'{"bias": 0}'))
        s3.put_object(Bucket="data", Key="model.tar.gz", Body=buffer.getvalue())
        sagemaker.create_model(
            ModelName="m",
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://data/model.tar.gz"},
            ExecutionRoleArn=ROLE,
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large"}],
        )
        sagemaker.create_endpoint(EndpointName="e", EndpointConfigName="c")
        sagemaker.create_training_job(
            TrainingJobName="slow",
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            HyperParameters={"sleep": "60"},
            RoleArn=ROLE,
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/train"}},
                }
            ],
            OutputDataConfig={"S3OutputPath": "s3://data/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
        )
        function = aws.register_lambda("Forget", lambda event, context: None, {"SAGESTEP_LIFECYCLE": "1"})
        sfn = aws.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="waits",
            roleArn=ROLE,
            definition=json.dumps(
                {
                    "StartAt": "Wait",
                    "States": {
                        "Wait": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
                            "End": True,
                        }
                    },
                }
            ),
        )
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="waiting", input="{}")
        deadline = time.monotonic() + 20
        while sagemaker.describe_endpoint(EndpointName="e")["EndpointStatus"] == "Creating":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        while sagemaker.describe_training_job(TrainingJobName="slow")["SecondaryStatus"] != "Training":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started = descendants(os.getpid()) - before
        assert len(started) >= 2
        work_dir = aws.work_dir
    finally:
        # When the emulator stops
        stopping = time.monotonic()
        aws.stop()
    # Then it stopped quickly, and no container process, port, variable or moto change is left
    assert time.monotonic() - stopping < 15
    assert not (descendants(os.getpid()) & started)
    assert dict(os.environ) == environment
    assert not work_dir.exists()
    assert LambdaFunction.invoke.__module__ == "moto.awslambda.models"
    assert SageMakerModelBackend.create_endpoint.__module__ == "moto.sagemaker.models"
    assert "update_endpoint" not in vars(__import__("moto.sagemaker.responses").sagemaker.responses.SageMakerResponse)
    with socket.socket() as sock:
        # Closed connections may linger in TIME_WAIT; like any server, rebind with SO_REUSEADDR.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    # And a new emulator can start afterwards, with an empty state
    with LocalAws() as again:
        assert again.client("sagemaker").list_endpoints()["Endpoints"] == []
