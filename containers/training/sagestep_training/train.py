"""The ``train`` command: read the job from the SageMaker layout, then train a model or search for one.

``mode=train`` writes the served model, its TorchScript twin, ``meta.json`` and ``metrics.json`` to
``model/`` and the per-epoch history to ``output/data/``. ``mode=hpo`` writes ``model/hpo_results.json``
and ``metrics.json`` (the best trial's). Both print the final metric lines last.
"""

from __future__ import annotations

from dataclasses import asdict

from sagestep_training import artifacts, hpo, hyperparameters
from sagestep_training.data import Dataset, load_dataset, split
from sagestep_training.export import save_model
from sagestep_training.fit import Epoch, fit
from sagestep_training.hyperparameters import Hyperparameters
from sagestep_training.layout import Layout
from sagestep_training.metrics import LOSS, metric_line


def run(layout: Layout) -> None:
    """Run the job described by ``layout``; raises ``UserError`` for problems with its input."""
    config = hyperparameters.load(layout.hyperparameters_file)
    dataset = load_dataset(layout.channel(), config.target, config.problem_type)
    print(
        f"{config.mode}: {config.problem_type} of {config.target!r} from {len(dataset)} rows and "
        f"{len(dataset.feature_names)} features",
        flush=True,
    )
    if config.mode == "hpo":
        result = hpo.search(dataset, config)
        artifacts.write_json(layout.model_dir / artifacts.HPO_RESULTS_FILE, result.to_json())
        metrics = result.best_metrics
    else:
        metrics = _train(layout, dataset, config)
    artifacts.write_json(layout.model_dir / artifacts.METRICS_FILE, metrics)
    print(metric_line(metrics), flush=True)


def _train(layout: Layout, dataset: Dataset, config: Hyperparameters) -> dict[str, float]:
    train, validation = split(dataset, config.validation_fraction, config.seed)
    result = fit(train, validation, config, on_epoch=_print_epoch)
    print(f"best epoch {result.best.number} of {len(result.history)}", flush=True)
    save_model(layout.model_dir, result, dataset, config)
    artifacts.write_json(layout.output_data_dir / artifacts.HISTORY_FILE, [asdict(epoch) for epoch in result.history])
    return result.metrics


def _print_epoch(epoch: Epoch) -> None:
    metrics = {
        "epoch": epoch.number,
        "train_loss": epoch.train_loss,
        LOSS: epoch.validation_loss,
        "learning_rate": epoch.learning_rate,
    }
    print(metric_line(metrics), flush=True)
