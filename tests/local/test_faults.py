"""Fault injection bookkeeping (sagestep.local.faults): arming, listing what is armed, clearing all or one
kind, and consumption. No emulation: the emulation's use of the faults is in test_emulator.py.

Given / When / Then.
"""

from __future__ import annotations

import pytest

from sagestep.local.faults import DEFAULT_THROTTLE_MESSAGE, FAULT_KINDS, ArmedFault, Faults


def every_kind() -> Faults:
    """One fault of each kind armed, the endpoint queue holding a failure then a hang."""
    faults = Faults()
    faults.fail_next_training_job("disk full")
    faults.fail_next_endpoint("no capacity")
    faults.hang_next_endpoint()
    faults.fail_next_endpoint_update("bad variant")
    faults.throttle("CreateEndpoint", count=20)
    faults.lose_response("CreateTrainingJob")
    faults.fail_call("CreateEndpointConfig", "ResourceLimitExceeded", "quota reached")
    faults.fail_function("WaitResume", count=3)
    return faults


def test_nothing_is_armed_at_first() -> None:
    assert Faults().armed() == []


def test_every_armed_fault_is_listed_with_its_operation_and_what_is_left() -> None:
    assert every_kind().armed() == [
        ArmedFault("fail_next_training_job", 1, reason="disk full"),
        ArmedFault("fail_next_endpoint", 1, reason="no capacity"),
        ArmedFault("hang_next_endpoint", 1),
        ArmedFault("fail_next_endpoint_update", 1, reason="bad variant"),
        ArmedFault("throttle", 20, operation="CreateEndpoint", message=DEFAULT_THROTTLE_MESSAGE),
        ArmedFault("lose_response", 1, operation="CreateTrainingJob"),
        ArmedFault(
            "fail_call", 1, operation="CreateEndpointConfig", message="quota reached", code="ResourceLimitExceeded"
        ),
        ArmedFault("fail_function", 3, operation="WaitResume"),
    ]


def test_equal_faults_in_a_row_are_one_entry_and_the_queue_order_is_kept() -> None:
    # Given two equal training failures, then another, and endpoint faults that alternate
    faults = Faults()
    for reason in ("oom", "oom", "disk full"):
        faults.fail_next_training_job(reason)
    faults.hang_next_endpoint()
    faults.fail_next_endpoint("no capacity")
    faults.hang_next_endpoint()
    # When listed / Then the equal neighbours merged, and the endpoint entries come in the order they fire
    assert faults.armed() == [
        ArmedFault("fail_next_training_job", 2, reason="oom"),
        ArmedFault("fail_next_training_job", 1, reason="disk full"),
        ArmedFault("hang_next_endpoint", 1),
        ArmedFault("fail_next_endpoint", 1, reason="no capacity"),
        ArmedFault("hang_next_endpoint", 1),
    ]


def test_a_per_call_fault_counts_down_as_calls_hit_it() -> None:
    # Given 20 throttled calls of CreateEndpoint, armed under one spelling and hit under another
    faults = Faults()
    faults.throttle("CreateEndpoint", count=20)
    faults.lose_response("CreateTrainingJob", count=2)
    # When two calls are throttled and one response is lost
    assert faults.take_throttle("create_endpoint") == DEFAULT_THROTTLE_MESSAGE
    assert faults.take_throttle("createEndpoint") == DEFAULT_THROTTLE_MESSAGE
    assert faults.take_lost_response("CreateTrainingJob")
    # Then the listing shows what is left, under the name it was armed with
    assert faults.armed() == [
        ArmedFault("throttle", 18, operation="CreateEndpoint", message=DEFAULT_THROTTLE_MESSAGE),
        ArmedFault("lose_response", 1, operation="CreateTrainingJob"),
    ]
    # And a spent fault is no longer listed
    assert faults.take_lost_response("CreateTrainingJob")
    assert not faults.take_lost_response("CreateTrainingJob")
    assert [armed.fault for armed in faults.armed()] == ["throttle"]


def test_a_refused_call_answers_its_code_and_message_as_often_as_armed() -> None:
    faults = Faults()
    faults.fail_call("CreateEndpointConfig", count=2)
    assert faults.take_call_failure("create_endpoint_config") == (
        "ValidationException",
        "Fault injected by the local emulator: the request was refused.",
    )
    assert faults.take_call_failure("CreateEndpoint") is None
    assert faults.armed() == [
        ArmedFault(
            "fail_call",
            1,
            operation="CreateEndpointConfig",
            message="Fault injected by the local emulator: the request was refused.",
            code="ValidationException",
        )
    ]
    faults.apply({"fault": "fail_call", "operation": "CreateModel", "code": "AccessDeniedException"})
    assert faults.take_call_failure("CreateEndpointConfig") is not None
    assert faults.take_call_failure("CreateEndpointConfig") is None
    assert faults.take_call_failure("CreateModel") == (
        "AccessDeniedException",
        "Fault injected by the local emulator: the request was refused.",
    )


def test_clear_disarms_everything_and_returns_what_was_armed() -> None:
    faults = every_kind()
    armed = faults.armed()
    assert faults.clear() == armed
    assert faults.armed() == []
    assert faults.take_throttle("CreateEndpoint") is None
    assert faults.take_endpoint_fault() is None


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_clear_of_one_kind_leaves_the_others_armed(kind: str) -> None:
    # Given one fault of each kind
    faults = every_kind()
    before = faults.armed()
    # When one kind is cleared
    cleared = faults.clear(kind)
    # Then exactly that kind's entries were cleared, and every other stays armed in its order
    assert cleared == [armed for armed in before if armed.fault == kind]
    assert faults.armed() == [armed for armed in before if armed.fault != kind]


def test_clearing_endpoint_failures_keeps_the_hangs_queued_and_consumable() -> None:
    faults = Faults()
    faults.fail_next_endpoint("a")
    faults.hang_next_endpoint()
    faults.fail_next_endpoint("b")
    faults.clear("fail_next_endpoint")
    fault = faults.take_endpoint_fault()
    assert fault is not None and fault.kind == "hang"
    assert faults.take_endpoint_fault() is None


def test_clear_of_an_unknown_kind_is_refused_naming_the_kinds() -> None:
    faults = every_kind()
    with pytest.raises(ValueError, match="unknown fault 'explode' \\(one of fail_next_training_job, "):
        faults.clear("explode")
    assert len(faults.armed()) == len(FAULT_KINDS)


def test_the_json_form_leaves_out_what_does_not_apply_and_reads_back() -> None:
    throttle = ArmedFault("throttle", 18, operation="CreateEndpoint", message="Rate exceeded")
    hang = ArmedFault("hang_next_endpoint", 1)
    refused = ArmedFault("fail_call", 1, operation="CreateModel", message="no", code="ValidationException")
    assert hang.to_json() == {"fault": "hang_next_endpoint", "remaining": 1}
    assert refused.to_json()["code"] == "ValidationException"
    assert [ArmedFault.from_json(armed.to_json()) for armed in (throttle, hang, refused)] == [throttle, hang, refused]


def test_a_function_failure_hits_the_functions_whose_name_contains_it_count_times() -> None:
    faults = Faults()
    faults.fail_function("WaitResume", count=2)
    assert not faults.take_function_failure("sagestep-WaitsWaitRegisterFunction")
    assert faults.take_function_failure("sagestep-WaitsWaitResumeFunction")
    assert faults.take_function_failure("sagestep-WaitsWaitResumeFunction")
    assert not faults.take_function_failure("sagestep-WaitsWaitResumeFunction")
