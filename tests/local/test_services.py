"""The registration interface of the local service emulations (``sagestep.local.services``).

A service moto lacks is proven with a throwaway Translate (``fixtures/translate.py``) called by a real boto3
client through the moto server; the lifecycle with a recording service. Both run without the default
services (an empty registry), so no SageMaker emulation starts.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import moto.backend_index as backend_index
import moto.backends as backends
import pytest

from sagestep.local.emulator import LocalAws
from sagestep.local.patching import Patcher
from sagestep.local.services import LocalService, ServiceContext, ServiceRegistry, default_registry
from sagestep.local.services.sagemaker import SageMakerEmulator
from sagestep.local.services.translate import TranslateEmulator
from tests.local.fixtures.translate import ThrowawayTranslate


def test_a_service_moto_lacks_answers_boto3_through_the_server_until_the_emulator_stops() -> None:
    # Given moto, which has no Translate
    patterns_before = list(backend_index.backend_url_patterns)
    get_backend_before = backends.get_backend
    assert "translate" not in {name for name, _ in patterns_before}

    # When an emulator runs with the throwaway Translate registered
    with LocalAws(registry=ServiceRegistry(), services=[ThrowawayTranslate()]) as aws:
        translate = aws.client("translate")

        # Then a real boto3 client gets its answers through the moto server, errors included
        languages = translate.list_languages()["Languages"]
        assert {"LanguageName": "German", "LanguageCode": "de"} in languages
        answer = translate.translate_text(Text="hello", SourceLanguageCode="en", TargetLanguageCode="de")
        assert answer["TranslatedText"] == "[de] hello"
        with pytest.raises(translate.exceptions.UnsupportedLanguagePairException) as raised:
            translate.translate_text(Text="hello", SourceLanguageCode="en", TargetLanguageCode="xx")
        assert raised.value.response["Error"]["Message"] == "Unsupported language pair: en to xx."
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert aws.service(ThrowawayTranslate).translated() == 1
        # And moto's own services still answer
        assert aws.client("sqs").list_queues().get("QueueUrls", []) == []

    # And once it stopped, moto's routing is as it was
    assert backend_index.backend_url_patterns == patterns_before
    assert backends.get_backend is get_backend_before


class Recorder(LocalService):
    """A service that records its lifecycle, emits an event on request and reports one busy worker."""

    name: ClassVar[str] = "recorder"
    event_source: ClassVar[str | None] = "sagestep.recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.busy = threading.Event()

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        super().install(patcher, context)
        self.calls.append("install")
        # The server runs already: the context's clients reach it.
        context.clients("sqs").list_queues()

    def shutdown(self) -> None:
        self.calls.append("shutdown")

    def child_processes(self) -> list[int]:
        return [4242]

    def wait_idle(self, timeout: float | None = None) -> bool:
        return not self.busy.is_set()


def test_services_are_installed_waited_for_and_shut_down_and_their_events_reach_eventbridge() -> None:
    recorder = Recorder()
    received: list[dict[str, Any]] = []
    with LocalAws(registry=ServiceRegistry(), services=[recorder]) as aws:
        # Given an EventBridge rule on the recorder's events, with a Lambda target
        target = aws.register_lambda("RecorderEvents", lambda event, context: received.append(event))
        events = aws.client("events")
        events.put_rule(Name="recorder", EventPattern=json.dumps({"source": ["sagestep.recorder"]}))
        events.put_targets(Rule="recorder", Targets=[{"Id": "1", "Arn": target}])

        # When the service emits an event
        recorder.emit("Thing State Change", "arn:aws:recorder:::thing/1", {"Status": "DONE"})

        # Then it reaches the rule's target once the emulation is idle
        assert aws.wait_idle(10)
        assert [(e["source"], e["detail-type"], e["detail"]) for e in received] == [
            ("sagestep.recorder", "Thing State Change", {"Status": "DONE"})
        ]
        assert received[0]["resources"] == ["arn:aws:recorder:::thing/1"]
        # And the emulator asks every service whether it is idle and what it runs
        recorder.busy.set()
        assert not aws.wait_idle(0.2)
        recorder.busy.clear()
        assert aws.child_processes() == [4242]
        assert aws.service(Recorder) is recorder
        with pytest.raises(KeyError):
            aws.service(SageMakerEmulator)
        assert recorder.context.work_dir == Path(aws.work_dir)
    assert recorder.calls == ["install", "shutdown"]


def test_the_registry_instantiates_registered_services_and_given_ones_take_their_place() -> None:
    registry = default_registry()
    assert registry.names() == ["sagemaker", "translate", "textract", "comprehend"]
    with pytest.raises(ValueError, match="registered already"):
        registry.register(SageMakerEmulator)

    defaults = registry.instantiate()
    configured = SageMakerEmulator(endpoint_start_timeout=5)
    chosen = registry.instantiate([Recorder(), configured])

    assert [s.name for s in defaults] == registry.names()
    assert [type(s) for s in defaults][:2] == [SageMakerEmulator, TranslateEmulator]
    assert chosen[0] is configured
    assert [s.name for s in chosen] == [*registry.names(), "recorder"]
    with pytest.raises(ValueError, match="two local sagemaker"):
        registry.instantiate([SageMakerEmulator(), SageMakerEmulator()])
