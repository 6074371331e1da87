"""The workflows of the stack, one construct each (`stacks/workflows/<name>.py`) on `base.Workflow`.

Adding a workflow adds its module and one entry in `WORKFLOWS`; the stack registers each with the platform
(API routes and grants, safety net, alarms, its state machine output).
"""

from stacks.workflows.base import Workflow
from stacks.workflows.documents import Documents
from stacks.workflows.labeling import Labeling
from stacks.workflows.training import Training
from stacks.workflows.translation import Translation

WORKFLOWS: tuple[type[Workflow], ...] = (Training, Labeling, Translation, Documents)
