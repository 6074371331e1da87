"""The CDK app is synthesized as the CDK CLI would, and cached by its sources (cloudformation.assembly)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from sagestep.local.cloudformation import CloudAssembly, SynthError, synthesize, synthesize_assembly
from tests.local.fixtures.stack import FAKE_APP, synth_fixture_app

STACK = "SagestepFixture"


def test_synthesis_passes_the_cdk_json_context_like_the_cli(assembly: CloudAssembly) -> None:
    # Given the fixture app, whose cdk.json sets feature flags and `fixture:stage`
    # When it is synthesized (module fixture)
    template = assembly.template
    # Then the context reached the app: the value is in the template, and the feature flag
    # `disableCloudWatchRole` removed the API's CloudWatch role
    api_function = next(
        r
        for r in template["Resources"].values()
        if r.get("Properties", {}).get("Handler") == "fixture_service.handlers.api"
    )
    assert api_function["Properties"]["Environment"]["Variables"]["STAGE"] == "test"
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"]
    # and construct paths are recorded, as `cdk synth` records them
    assert api_function["Metadata"]["aws:cdk:path"] == f"{STACK}/Api/Resource"
    assert assembly.stack_name == STACK


def test_second_synthesis_of_the_same_sources_is_read_from_the_cache(
    assembly: CloudAssembly, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given an app synthesized once
    # When it is synthesized again with the same sources and context
    started = time.perf_counter()
    again = synth_fixture_app(tmp_path_factory)
    elapsed = time.perf_counter() - started
    # Then the cached assembly is returned without running the app
    assert again.cached
    assert again.directory == assembly.directory
    assert again.template == assembly.template
    assert elapsed < 1.0


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FAKE_APP, app)
    return app


def runs(app: Path) -> int:
    return len((app / "runs.log").read_text().splitlines()) if (app / "runs.log").exists() else 0


def test_cache_is_invalidated_by_a_source_change_and_by_the_context(fake_app: Path, tmp_path: Path) -> None:
    # Given a (fake, instant) CDK app synthesized once
    out = tmp_path / "out"
    first = synthesize_assembly(fake_app, out)
    assert (first.cached, runs(fake_app)) == (False, 1)
    # When nothing changes, Then the app does not run again
    assert synthesize_assembly(fake_app, out).cached
    assert runs(fake_app) == 1
    # When a file under stacks/ changes, Then it runs again
    (fake_app / "stacks" / "fake_stack.py").write_text('"""changed"""\n')
    assert not synthesize_assembly(fake_app, out).cached
    assert runs(fake_app) == 2
    # When the context changes, Then it runs again and the context wins over cdk.json
    template = synthesize(fake_app, out, {"fake:value": "from-caller"})
    assert runs(fake_app) == 3
    assert template["Resources"]["Setting"]["Properties"]["Value"] == "from-caller"
    context = json.loads(template["Outputs"]["Context"]["Value"])
    assert context["fake:other"] == 1
    assert context["aws:cdk:bundling-stacks"] == []


def test_failing_app_raises_synth_error_with_its_output(fake_app: Path, tmp_path: Path) -> None:
    # Given an app that fails
    # When it is synthesized
    with pytest.raises(SynthError) as raised:
        synthesize(fake_app, tmp_path / "out", {"fake:fail": True})
    # Then the error carries the app's message, and no assembly is left behind
    assert "the fake app was asked to fail" in str(raised.value)
    assert not list((tmp_path / "out").glob("assembly-*"))


def test_unknown_stack_name_is_refused(fake_app: Path, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="'Other' not in the app"):
        synthesize(fake_app, tmp_path / "out", stack_name="Other")
