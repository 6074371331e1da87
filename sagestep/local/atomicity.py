"""The atomicity AWS guarantees and moto does not, restored for concurrent callers.

moto serves requests on several threads but checks and writes without locks. sagestep relies on two
guarantees that a race would break, so both are made one step here:

- DynamoDB conditional writes (``PutItem``/``UpdateItem``/``DeleteItem`` with a condition, and
  ``TransactWriteItems``) are atomic: a submission's record is created once, a READY job is claimed once
  before its endpoint is evicted, a wait token is taken once. moto evaluates the condition and then
  writes, so two concurrent writers could both pass the check.
- ``StartExecution`` with a name and input already running returns that execution. moto looks for it and
  then appends the new execution, so two concurrent starts with one name could both run.

Reads take the same lock: moto updates items in place and adds keys to the dict a Query or Scan iterates,
so an unlocked read could see half an update or fail with "dictionary changed size during iteration".

Used by the local runtime (:class:`sagestep.local.emulator.LocalAws`) and by the unit tests' in-process
moto. DynamoDB calls take one lock for the whole backend (a transaction may span tables; moto's calls take
microseconds to a few milliseconds); executions are serialised per state machine (starting one parses the
definition).

Limit: moto delivers DynamoDB stream records to a Lambda event source mapping synchronously, inside the
write, so a stream-triggered function that wrote back to DynamoDB through the server would wait for this
lock forever. sagestep's tables have no streams, and :mod:`sagestep.local.cloudformation` records a template's
event source mappings without creating them in moto; a workflow that adds one must dispatch it outside
the write.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sagestep.local.patching import Patcher

DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
DYNAMODB_READS = ("get_item", "query", "scan")


def install(patcher: Patcher) -> None:
    """Apply both guarantees; :meth:`Patcher.restore` removes them."""
    atomic_item_writes(patcher)
    atomic_execution_starts(patcher)


def atomic_item_writes(patcher: Patcher) -> None:
    """Each DynamoDB write, its condition included, runs alone; reads never see one half done."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def the_lock(*_: Any, **__: Any) -> threading.RLock:
        return lock

    for name in DYNAMODB_WRITES + DYNAMODB_READS:
        patcher.replace(DynamoDBBackend, name, _locked(vars(DynamoDBBackend)[name], the_lock))


def atomic_execution_starts(patcher: Patcher) -> None:
    """Name/input idempotency check and the execution's creation are one step per state machine."""
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    guard = threading.Lock()
    locks: defaultdict[str, threading.RLock] = defaultdict(threading.RLock)

    def lock_for(_backend: Any, state_machine_arn: str, *_: Any, **__: Any) -> threading.RLock:
        with guard:
            return locks[state_machine_arn]

    for backend_class in (StepFunctionBackend, StepFunctionsParserBackend):
        patcher.replace(backend_class, "start_execution", _locked(vars(backend_class)["start_execution"], lock_for))


def _locked(method: Callable[..., Any], lock_for: Callable[..., Any]) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock_for(*args, **kwargs):
            return method(*args, **kwargs)

    locked.__name__ = getattr(method, "__name__", "locked")
    locked.__doc__ = method.__doc__
    return locked
