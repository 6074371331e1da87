"""A local Amazon Comprehend whose detection APIs analyse the text (moto answers them with canned data).

:class:`ComprehendEmulator` replaces, through the :class:`~sagestep.local.patching.Patcher`, the methods of moto's
``ComprehendResponse`` for DetectSentiment, DetectKeyPhrases and DetectEntities, and adds DetectDominantLanguage and
the four ``BatchDetect*`` moto lacks (:mod:`.responses`); every other Comprehend action (recognizers, classifiers,
jobs, ...) stays moto's. The analysers are local and need nothing downloaded: VADER for sentiment
(:mod:`.sentiment`), YAKE for key phrases (:mod:`.keyphrases`), rules and gazetteers for entities
(:mod:`.entities`), scripts and stop words for the dominant language (:mod:`.language`). Their answers have
Comprehend's shapes, limits and errors; their quality is that of the methods, not of Comprehend's models.

Generic per-call faults (``throttle``, ``fail_call``, ``lose_response``) hit every Comprehend action by its name; a
throttle answers ``ThrottlingException`` ("Rate exceeded"), what Comprehend's real-time APIs answer (and boto3
retries). ``faults.comprehend`` (:mod:`sagestep.local.comprehend_faults`) fails one document of a batch call.

Billing: Comprehend charges each text by units of 100 characters, at least 3, per API;
:meth:`ComprehendEmulator.units` counts them per action (for benchmarks of batching and truncation).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from sagestep.local.patching import Patcher
from sagestep.local.services.base import LocalService, ServiceContext
from sagestep.local.services.comprehend.responses import ACTIONS, action_methods, json_error
from sagestep.local.services.json_protocol import with_call_faults
from sagestep_service.workflows.documents.comprehend_service import units

__all__ = ["ACTIONS", "ComprehendEmulator"]


class ComprehendEmulator(LocalService):
    """Amazon Comprehend's detection APIs on this machine (see the module docstring)."""

    name: ClassVar[str] = "comprehend"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: Counter[str] = Counter()
        self._texts: Counter[str] = Counter()

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        super().install(patcher, context)
        from moto.comprehend.responses import ComprehendResponse

        for method_name, method in action_methods(self).items():
            patcher.replace(ComprehendResponse, method_name, method)

        # Refused calls and throttles are answered before the action runs; a lost response after it ran.
        faults = context.faults
        original_call_action = ComprehendResponse.call_action

        def call_action(response: Any) -> Any:
            return with_call_faults(
                faults,
                response._get_action(),
                lambda: original_call_action(response),
                throttle_code="ThrottlingException",
                lost_code="InternalServerException",
                error=json_error,
            )

        patcher.replace(ComprehendResponse, "call_action", call_action)

    # Billing ------------------------------------------------------------------------------------------------

    def bill(self, action: str, texts: Iterable[str]) -> None:
        """Count the units (and texts) Comprehend would charge ``action`` for analysing ``texts``."""
        texts = list(texts)
        with self._lock:
            self._units[action] += sum(units(text) for text in texts)
            self._texts[action] += len(texts)

    def units(self, action: str | None = None) -> int:
        """The billed units of ``action`` (``DetectSentiment``, ``BatchDetectEntities``, ...), or of all actions."""
        with self._lock:
            return self._units[action] if action is not None else sum(self._units.values())

    def usage(self) -> dict[str, dict[str, int]]:
        """``{action: {"units": ..., "texts": ...}}`` of every action called since the start (or the last reset)."""
        with self._lock:
            return {action: {"units": self._units[action], "texts": self._texts[action]} for action in self._units}

    def reset_usage(self) -> None:
        """Start counting from zero (between the runs of a benchmark)."""
        with self._lock:
            self._units.clear()
            self._texts.clear()
