"""EventBridge events from the local service emulations, delivered in order by one thread."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sagestep.local.activity import Activity

LOG = logging.getLogger(__name__)


class EventEmitter:
    """Puts events on the default bus in the order they were emitted.

    Each queued event counts as work in progress (``activity``) until it is delivered, so that waiting for
    the emulation to be idle also waits for the rules the event triggers to be invoked. After
    :meth:`close`, queued and new events are dropped.
    """

    def __init__(self, clients: Callable[[str], Any], activity: Activity) -> None:
        self._clients = clients
        self._activity = activity
        self._closing = threading.Event()
        self._queue: queue.Queue[tuple[str, str, str, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver, name="local-service-events", daemon=True)
        self._thread.start()

    def emit(self, source: str, detail_type: str, resource_arn: str, detail: dict[str, Any]) -> None:
        """Queue one event (``detail`` must be JSON-safe)."""
        if self._closing.is_set():
            return
        self._activity.begin()
        self._queue.put((source, detail_type, resource_arn, detail))

    def close(self) -> None:
        """Drop pending events and stop the delivery thread."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout=5)
        while True:  # events queued while closing
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._activity.end()

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            source, detail_type, resource_arn, detail = item
            try:
                if not self._closing.is_set():
                    self._clients("events").put_events(
                        Entries=[
                            {
                                "Source": source,
                                "DetailType": detail_type,
                                "Detail": json.dumps(detail),
                                "Resources": [resource_arn],
                            }
                        ]
                    )
            except Exception:
                LOG.exception("Could not put the %s event for %s", detail_type, resource_arn)
            finally:
                self._activity.end()
