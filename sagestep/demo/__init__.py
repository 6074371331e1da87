"""``sagestep demo``: every workflow end to end on this machine, no AWS account.

Each workflow has one section (``sagestep/demo/<workflow>.py``, a :class:`~sagestep.demo.runner.DemoSection`)
and one line in :data:`SECTIONS`. :func:`~sagestep.demo.runner.run_sections` runs the chosen sections
against one local runtime and prints a timings table; a section's constructor takes its options (see the
``sagestep demo`` command) and checks them before the runtime starts.
"""

from __future__ import annotations

from collections.abc import Callable

from sagestep.demo.documents import DocumentsDemo
from sagestep.demo.labeling import LabelingDemo
from sagestep.demo.runner import DemoContext, DemoError, DemoRun, DemoSection, run_sections
from sagestep.demo.training import TrainingDemo
from sagestep.demo.translation import TranslationDemo

__all__ = ["SECTIONS", "DemoContext", "DemoError", "DemoRun", "DemoSection", "run_sections"]

#: Workflow name -> its section's constructor, in the order ``sagestep demo`` runs them.
SECTIONS: dict[str, Callable[..., DemoSection]] = {
    TrainingDemo.name: TrainingDemo,
    TranslationDemo.name: TranslationDemo,
    DocumentsDemo.name: DocumentsDemo,
    LabelingDemo.name: LabelingDemo,
}
