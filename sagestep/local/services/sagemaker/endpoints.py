"""Endpoints: a real ``serve`` run of the container behind moto's CreateEndpoint/UpdateEndpoint/InvokeEndpoint.

**CreateEndpoint** starts ``Creating``; a worker downloads the model's ``model.tar.gz``, starts
``<container command> serve`` on a free port (``SAGEMAKER_BIND_TO_PORT``, ``SAGESTEP_BIND_HOST``) and waits for
``GET /ping``, then ``InService`` (or ``Failed``). **UpdateEndpoint** (added) deploys the new configuration
beside the old one and switches, or rolls back when the update fails and the ``DeploymentConfig`` has
``AutoRollbackConfiguration`` or ``BlueGreenUpdatePolicy`` (else ``Failed``). **DeleteEndpoint** stops the
server. **InvokeEndpoint** (sagemaker-runtime) forwards to the server; a non-200 answer becomes ``ModelError``
(HTTP 424) as on AWS. Every status change puts a "SageMaker Endpoint State Change" event, ``EndpointStatus``
in AWS's event spelling (``IN_SERVICE``, ``CREATING``, ``UPDATING``, ``FAILED``, ``DELETING``; DescribeEndpoint
keeps ``InService`` etc.).

Only the first production variant of an endpoint configuration is served.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import subprocess
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestep.local.serialization import json_safe
from sagestep.local.services.sagemaker.common import Shared, split_s3, tag_map, utcnow
from sagestep.local.services.sagemaker.processes import Cancelled, ContainerProcesses, free_port, ping, tail

LOG = logging.getLogger(__name__)

PING_FAILURE = (
    "The primary container for production variant {variant} did not pass the ping health check. "
    "Please check CloudWatch logs for this endpoint."
)


class DeployError(Exception):
    """A model server could not be started; the message is the endpoint's FailureReason."""


@dataclass
class Serving:
    """One running model server."""

    config_name: str
    variant_name: str
    process: subprocess.Popen[bytes]
    port: int
    directory: Path


@dataclass
class EndpointState:
    name: str
    generation: int = 0
    serving: Serving | None = None
    deployments: int = 0


class Endpoints:
    """The endpoints the emulation serves, by name.

    :param start_timeout: seconds a model server has to answer ``/ping``.
    :param invoke_timeout: seconds an invocation may take.
    """

    def __init__(
        self, shared: Shared, processes: ContainerProcesses, *, start_timeout: float, invoke_timeout: float
    ) -> None:
        self._shared = shared
        self._context = shared.context
        self._processes = processes
        self._start_timeout = start_timeout
        self._invoke_timeout = invoke_timeout
        self._states: dict[str, EndpointState] = {}

    def port(self, name: str) -> int | None:
        """The local port of an endpoint's model server, if it is serving."""
        with self._shared.lock:
            state = self._states.get(name)
            return state.serving.port if state and state.serving else None

    def on_create(self, endpoint: Any) -> None:
        """A CreateEndpoint call created ``endpoint`` in moto: deploy it, Creating."""
        fault = self._context.faults.take_endpoint_fault()
        with self._shared.lock:
            state = self._states.setdefault(endpoint.endpoint_name, EndpointState(endpoint.endpoint_name))
            state.generation += 1
            generation = state.generation
            endpoint.endpoint_status = "Creating"
            endpoint.failure_reason = None
            endpoint.creation_time = endpoint.last_modified_time = utcnow()
        self._emit(endpoint)
        if fault is not None and fault.kind == "hang":
            LOG.info("Endpoint %s will stay Creating (injected fault)", endpoint.endpoint_name)
            return
        config_name = endpoint.endpoint_config_name
        failure = fault.reason if fault is not None else None
        self._processes.spawn(
            lambda: self._deploy_new(endpoint, state, generation, config_name, failure),
            f"endpoint-{endpoint.endpoint_name}",
        )

    def _deploy_new(
        self, endpoint: Any, state: EndpointState, generation: int, config_name: str, failure: str | None
    ) -> None:
        try:
            if failure is not None:
                raise DeployError(failure)
            serving = self._start_serving(state, generation, config_name)
        except Cancelled:
            return
        except Exception as exc:
            reason = str(exc) if isinstance(exc, DeployError) else f"InternalServerError: {exc}"
            with self._shared.lock:
                if state.generation != generation:
                    return
                endpoint.endpoint_status = "Failed"
                endpoint.failure_reason = reason[:1024]
                endpoint.last_modified_time = utcnow()
            self._emit(endpoint)
            return
        with self._shared.lock:
            current = state.generation == generation
            if current:
                state.serving = serving
                endpoint.endpoint_status = "InService"
                endpoint.last_modified_time = utcnow()
        if not current:
            self._processes.terminate(serving.process)
            return
        self._emit(endpoint)

    def _start_serving(self, state: EndpointState, generation: int, config_name: str) -> Serving:
        """Download the model of the configuration's first variant and start its server."""

        def check_cancelled() -> None:
            if state.generation != generation or self._shared.closing.is_set():
                raise Cancelled

        client = self._context.clients("sagemaker")
        config = client.describe_endpoint_config(EndpointConfigName=config_name)
        variant = config["ProductionVariants"][0]
        model = client.describe_model(ModelName=variant["ModelName"])
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        with self._shared.lock:
            state.deployments += 1
            directory = self._context.work_dir / "endpoints" / state.name / f"{state.deployments:03d}-{config_name}"
        root = directory / "ml"
        (root / "model").mkdir(parents=True, exist_ok=True)
        data_url = container.get("ModelDataUrl")
        if data_url:
            try:
                bucket, key = split_s3(data_url)
                body = self._context.clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
                    archive.extractall(root / "model", filter="data")
            except Exception as exc:
                raise DeployError(f"Failed to download model data from {data_url}: {exc}") from exc
        check_cancelled()
        port = free_port()
        env = self._processes.environment(
            {
                **(container.get("Environment") or {}),
                "SAGESTEP_ML_ROOT": str(root),
                "SAGEMAKER_BIND_TO_PORT": str(port),
                "SAGESTEP_BIND_HOST": "127.0.0.1",
            }
        )
        log_path = directory / "serve.log"
        with log_path.open("wb") as log:
            process = self._processes.start(
                self._processes.command(container.get("Image", ""), "serve"),
                env,
                root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        serving = Serving(config_name, variant.get("VariantName", "AllTraffic"), process, port, directory)
        deadline = time.monotonic() + self._start_timeout
        try:
            while True:
                check_cancelled()
                if process.poll() is not None:
                    raise DeployError(
                        PING_FAILURE.format(variant=serving.variant_name)
                        + f" The model server exited with status {process.returncode}; "
                        + f"last output:\n{tail(log_path)}"
                    )
                if ping(port):
                    return serving
                if time.monotonic() > deadline:
                    raise DeployError(
                        PING_FAILURE.format(variant=serving.variant_name)
                        + f" No answer to /ping within {self._start_timeout:g} s; log: {log_path}"
                    )
                time.sleep(0.1)
        except BaseException:
            self._processes.terminate(process)
            raise

    def _emit(self, endpoint: Any) -> None:
        with self._shared.lock:
            detail: dict[str, Any] = {
                "EndpointName": endpoint.endpoint_name,
                "EndpointArn": endpoint.arn,
                "EndpointConfigName": endpoint.endpoint_config_name,
                "ProductionVariants": json_safe(endpoint.production_variants),
                "EndpointStatus": _event_status(endpoint.endpoint_status),
                "CreationTime": json_safe(endpoint.creation_time),
                "LastModifiedTime": json_safe(endpoint.last_modified_time),
                "Tags": tag_map(endpoint.tags),
            }
            if endpoint.failure_reason:
                detail["FailureReason"] = endpoint.failure_reason
        self._shared.emit("SageMaker Endpoint State Change", endpoint.arn, detail)

    def update(self, backend: Any, name: str, config_name: str, deployment_config: Mapping[str, Any] | None) -> str:
        """UpdateEndpoint: deploy ``config_name`` beside the serving configuration, then switch (or roll back)."""
        from moto.sagemaker.exceptions import ValidationError

        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f"Could not find endpoint '{self._shared.arn('endpoint', name)}'.")
        backend.describe_endpoint_config(config_name)  # raises ValidationError when missing
        failure = self._context.faults.take_update_failure()
        with self._shared.lock:
            if endpoint.endpoint_status != "InService":
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            state = self._states.setdefault(name, EndpointState(name))
            state.generation += 1
            generation = state.generation
            old_config = endpoint.endpoint_config_name
            endpoint.endpoint_status = "Updating"
            endpoint.last_modified_time = utcnow()
        self._emit(endpoint)
        guardrails = deployment_config or {}
        rollback = bool(guardrails.get("AutoRollbackConfiguration") or guardrails.get("BlueGreenUpdatePolicy"))
        self._processes.spawn(
            lambda: self._deploy_update(endpoint, state, generation, old_config, config_name, failure, rollback),
            f"endpoint-update-{name}",
        )
        return str(endpoint.arn)

    def _deploy_update(
        self,
        endpoint: Any,
        state: EndpointState,
        generation: int,
        old_config: str,
        new_config: str,
        failure: str | None,
        rollback: bool,
    ) -> None:
        try:
            if failure is not None:
                raise DeployError(failure)
            serving = self._start_serving(state, generation, new_config)
        except Cancelled:
            return
        except Exception as exc:
            reason = (str(exc) if isinstance(exc, DeployError) else f"InternalServerError: {exc}")[:1024]
            stale: Serving | None = None
            with self._shared.lock:
                if state.generation != generation:
                    return
                endpoint.last_modified_time = utcnow()
                endpoint.failure_reason = reason
                if rollback:
                    endpoint.endpoint_status = "InService"
                    endpoint.endpoint_config_name = old_config
                else:
                    endpoint.endpoint_status = "Failed"
                    stale, state.serving = state.serving, None
            if stale is not None:
                self._processes.terminate(stale.process)
            self._emit(endpoint)
            return
        with self._shared.lock:
            current = state.generation == generation
            previous = state.serving
            if current:
                state.serving = serving
                endpoint.endpoint_config_name = new_config
                endpoint.production_variants = _variants(self._shared.backend().describe_endpoint_config(new_config))
                endpoint.endpoint_status = "InService"
                endpoint.failure_reason = None
                endpoint.last_modified_time = utcnow()
        if not current:
            self._processes.terminate(serving.process)
            return
        if previous is not None:
            self._processes.terminate(previous.process)
        self._emit(endpoint)

    def on_delete(self, backend: Any, name: str) -> None:
        """A DeleteEndpoint call is about to delete ``name`` from moto: stop its model server."""
        endpoint = backend.endpoints.get(name)
        with self._shared.lock:
            state = self._states.pop(name, None)
            serving = None
            if state is not None:
                state.generation += 1
                serving, state.serving = state.serving, None
            if endpoint is not None:
                endpoint.endpoint_status = "Deleting"
                endpoint.last_modified_time = utcnow()
        if endpoint is not None:
            self._emit(endpoint)
        if serving is not None:
            self._processes.terminate(serving.process)

    def invoke(self, name: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Forward an InvokeEndpoint call to the endpoint's model server (sagemaker-runtime)."""
        throttled = self._context.faults.take_throttle("InvokeEndpoint")
        if throttled:
            return error_response(400, "ThrottlingException", throttled)
        with self._shared.lock:
            state = self._states.get(name)
            serving = state.serving if state else None
            endpoint = self._shared.backend().endpoints.get(name)
        if endpoint is None or serving is None or endpoint.endpoint_status not in ("InService", "Updating"):
            return error_response(
                400, "ValidationError", f"Endpoint {name} of account {self._context.account_id} not found."
            )
        forward = {k: v for k, v in headers.items() if v}
        log_group = f"/aws/sagemaker/Endpoints/{name}"
        log_arn = f"arn:aws:logs:{self._context.region}:{self._context.account_id}:log-group:{log_group}"
        connection = http.client.HTTPConnection("127.0.0.1", serving.port, timeout=self._invoke_timeout)
        try:
            connection.request("POST", "/invocations", body=body, headers=forward)
            answer = connection.getresponse()
            payload = answer.read()
            status = answer.status
            content_type = answer.getheader("Content-Type") or "application/octet-stream"
        except OSError as exc:
            status, payload, content_type = 0, str(exc).encode(), "text/plain"
        finally:
            connection.close()
        if status == 200:
            headers = {
                "Content-Type": content_type,
                "x-Amzn-Invoked-Production-Variant": serving.variant_name,
                "status": "200",
            }
            return 200, headers, payload
        kind = "client" if 400 <= status < 500 else "server"
        text = payload.decode("utf-8", errors="replace")
        message = (
            f'Received {kind} error ({status}) from primary with message "{text}". See '
            f"https://{self._context.region}.console.aws.amazon.com/cloudwatch/home?region={self._context.region}"
            f"#logEventViewer:group={log_group} in account {self._context.account_id} for more information."
        )
        return error_response(
            424,
            "ModelError",
            message,
            {
                "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
                "OriginalStatusCode": status,
                "OriginalMessage": text,
                "LogStreamArn": log_arn,
            },
        )


def error_response(
    status: int, code: str, message: str, extra: Mapping[str, Any] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """A rest-json error as AWS's runtime endpoint sends it (botocore reads the type header).

    moto takes the HTTP status of a response tuple from its ``status`` header.
    """
    body = {"message": message, **(extra or {})}
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json", "status": str(status)}
    return status, headers, json.dumps(body).encode()


def _event_status(status: str) -> str:
    """``InService`` -> ``IN_SERVICE``: the spelling of endpoint statuses in EventBridge events."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()


def _variants(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    variants = []
    for variant in config.get("ProductionVariants", []):
        entry: dict[str, Any] = {"VariantName": variant["VariantName"]}
        if variant.get("InitialInstanceCount"):
            entry["CurrentInstanceCount"] = entry["DesiredInstanceCount"] = variant["InitialInstanceCount"]
        if variant.get("InitialVariantWeight") is not None:
            entry["CurrentWeight"] = entry["DesiredWeight"] = variant["InitialVariantWeight"]
        variants.append(entry)
    return variants
