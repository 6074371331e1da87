"""boto3 clients for the Step Functions interpreter's tasks."""

from __future__ import annotations

import threading
from typing import Any

from botocore.config import Config


class InterpreterClients:
    """boto3 clients for the interpreter's tasks, built once per (service, region).

    The interpreter builds a new client for every task (a few milliseconds each) against
    ``localhost:$MOTO_PORT``, although the server listens on the emulator's address only (``localhost``
    may resolve to ``::1`` first); these point at the emulator's endpoint and are reused.
    """

    def __init__(self, endpoint_url: str) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, region: str, service: str, state_credentials: Any = None) -> Any:
        import boto3

        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    # Same settings as moto's boto_client_for: no SDK retries (Retry belongs to the
                    # ASL) and no parameter validation (the service validates).
                    session: Any = boto3.session.Session()
                    client = session.client(
                        service,
                        region_name=region,
                        endpoint_url=self._endpoint_url,
                        aws_access_key_id="ak",
                        aws_secret_access_key="sk",
                        config=Config(
                            parameter_validation=False,
                            retries={"max_attempts": 0, "total_max_attempts": 1},
                            connect_timeout=60,
                            read_timeout=600,
                            max_pool_connections=50,
                        ),
                    )
                    self._clients[key] = client
        return client
