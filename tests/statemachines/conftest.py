"""One local runtime for the state-machine modules that can share it; a module that needs a runtime of its own
(another stack context, or state no other test may see) defines its own ``harness`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sagestep.local.runtime import LocalRuntime
from tests.statemachines.harness import Harness

HERE = Path(__file__).parent


class SharedRuntime:
    """The harness on the shared runtime: started when a module first asks for it, stopped before a module
    that starts its own (only one runtime runs in a process at a time) and at the end of the folder.

    Tests on it see each other's jobs and endpoints: each looks only at its own jobs, and deletes a READY
    model it does not leave for a reason (the stack keeps at most five endpoints InService).
    """

    def __init__(self) -> None:
        self._harness: Harness | None = None

    def harness(self) -> Harness:
        if self._harness is None:
            runtime = LocalRuntime(port=0, sync_poll_interval=0.1)
            runtime.start()
            try:
                self._harness = Harness(runtime)
            except BaseException:
                runtime.stop()
                raise
        return self._harness

    def stop(self) -> None:
        if self._harness is not None:
            harness, self._harness = self._harness, None
            harness.client.close()
            harness.runtime.stop()


@pytest.fixture(scope="package")
def shared_runtime() -> Iterator[SharedRuntime]:
    shared = SharedRuntime()
    yield shared
    shared.stop()


@pytest.fixture(scope="module", autouse=True)
def _one_runtime_at_a_time(request: pytest.FixtureRequest, shared_runtime: SharedRuntime) -> None:
    # Autouse fixtures come first in their scope: the shared runtime is gone before the module's own starts.
    if "harness" in vars(request.module):
        shared_runtime.stop()


@pytest.fixture(scope="module")
def harness(shared_runtime: SharedRuntime) -> Harness:
    """The demo user's harness on the shared runtime."""
    return shared_runtime.harness()


@pytest.fixture(autouse=True)
def _disarm_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fault a test armed and did not use must not hit the next test's run."""
    yield
    if "harness" in request.fixturenames:
        request.getfixturevalue("harness").runtime.faults.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here executes a state machine in the local runtime: ``slow`` (``make unit`` leaves them out)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
