"""sagestep's bring-your-own-container training image: tabular MLP training, HPO and serving.

The package follows SageMaker's container contract (see ``docs/architecture.md``, "Training container
contract"): ``python -m sagestep_training train`` reads the job from the SageMaker directory layout and
writes the model, ``python -m sagestep_training serve`` answers ``/ping`` and ``/invocations``.
"""
