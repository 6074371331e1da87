"""``sagestep local fault`` arms the Translate job faults by their CLI names (runtime faked)."""

from __future__ import annotations

import pytest

from tests.unit.test_cli import FakeClient, run


@pytest.mark.parametrize(
    ("args", "spec"),
    [
        (["fail-translation", "--reason", "no key"], {"fault": "fail_next_translation_job", "reason": "no key"}),
        (["fail-translation-file", "--file", "*.xlsx"], {"fault": "fail_translation_file", "file": "*.xlsx"}),
        (["hang-translation"], {"fault": "hang_next_translation_job"}),
    ],
)
def test_translation_faults_are_armed_by_their_cli_names(args: list[str], spec: dict[str, str]) -> None:
    client = FakeClient()
    result = run(["local", "fault", *args], client)
    assert result.exit_code == 0, result.output
    assert client.calls == [("local_faults", spec)]
    assert args[0] in result.stdout
