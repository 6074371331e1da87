"""The fixture CDK app's assembly, shared by the modules that synthesize or provision it."""

from __future__ import annotations

import pytest

from sagestep.local.cloudformation import CloudAssembly
from tests.local.fixtures.stack import synth_fixture_app


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return synth_fixture_app(tmp_path_factory)
