"""Write the bundled datasets: ``python -m sagestep_training.datasets.generate``.

Synthetic but not trivial: each target is a smooth non-linear function of the inputs (a linear model
or the mean falls well short) plus noise, so a trained MLP has to learn something to beat a baseline.
Seeded, so the committed files are exactly what this script writes.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from sagestep_training.datasets import (
    CLASSIFICATION_CSV,
    CLASSIFICATION_TARGET,
    REGRESSION_CSV,
    REGRESSION_TARGET,
)

SEED = 20261122
REGRESSION_ROWS = 400
CLASSIFICATION_ROWS = 450
LABEL_NOISE = 0.03
"""Share of machine-condition rows whose label is replaced by a random one, as real labels are noisy."""


def crop_yield(rows: int = REGRESSION_ROWS, seed: int = SEED) -> str:
    """Yield (t/ha): Friedman's ``sin(pi * x1 * x2)`` interaction of rain and sun, quadratic optima of
    soil pH and temperature, and a fertilizer response that saturates, needs water, and falls when
    overdosed."""
    rng = np.random.default_rng(seed)
    rainfall_mm = rng.uniform(300, 1200, rows)
    sunshine_h = rng.uniform(1000, 2400, rows)
    soil_ph = rng.uniform(5.0, 8.0, rows)
    temperature_c = rng.uniform(10, 32, rows)
    fertilizer_kg_ha = rng.uniform(0, 250, rows)
    wetness = (rainfall_mm - 300) / 900
    light = (sunshine_h - 1000) / 1400
    fertilizer = (0.5 + wetness) * 2.5 * (1 - np.exp(-fertilizer_kg_ha / 60)) - 1.5 * (fertilizer_kg_ha / 250) ** 2
    yield_t_ha = (
        3.0
        + 2.0 * np.sin(np.pi * wetness * light)
        - 1.2 * ((soil_ph - 6.5) / 1.5) ** 2
        - 1.0 * ((temperature_c - 22) / 10) ** 2
        + fertilizer
        + rng.normal(0, 0.25, rows)
    )
    columns = {
        "rainfall_mm": (rainfall_mm, "{:.1f}"),
        "sunshine_h": (sunshine_h, "{:.0f}"),
        "soil_ph": (soil_ph, "{:.2f}"),
        "temperature_c": (temperature_c, "{:.1f}"),
        "fertilizer_kg_ha": (fertilizer_kg_ha, "{:.1f}"),
        REGRESSION_TARGET: (yield_t_ha, "{:.3f}"),
    }
    return _csv(columns)


def machine_condition(rows: int = CLASSIFICATION_ROWS, seed: int = SEED) -> str:
    """Condition from an elliptical stress score: vibration tolerated more at speed, bearing heat
    expected to rise with load; ``normal`` inside, ``warning`` in a ring, ``fault`` outside."""
    rng = np.random.default_rng(seed)
    vibration_mm_s = rng.uniform(0, 12, rows)
    bearing_temp_c = rng.uniform(30, 110, rows)
    load_pct = rng.uniform(20, 100, rows)
    speed_rpm = rng.uniform(800, 3600, rows)
    stress = np.sqrt(
        (vibration_mm_s / (3 + speed_rpm / 1000)) ** 2 + ((bearing_temp_c - 35 - 0.4 * load_pct) / 30) ** 2
    )
    labels = np.array(["normal", "warning", "fault"])
    condition = labels[np.digitize(stress, [1.1, 1.8])]
    noisy = rng.random(rows) < LABEL_NOISE
    condition[noisy] = rng.choice(labels, noisy.sum())
    columns = {
        "vibration_mm_s": (vibration_mm_s, "{:.2f}"),
        "bearing_temp_c": (bearing_temp_c, "{:.1f}"),
        "load_pct": (load_pct, "{:.1f}"),
        "speed_rpm": (speed_rpm, "{:.0f}"),
        CLASSIFICATION_TARGET: (condition, "{}"),
    }
    return _csv(columns)


def _csv(columns: dict[str, tuple[np.ndarray, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    cells = [[template.format(value) for value in values] for values, template in columns.values()]
    writer.writerows(zip(*cells, strict=True))
    return buffer.getvalue()


def main() -> None:
    REGRESSION_CSV.write_text(crop_yield(), encoding="utf-8")
    CLASSIFICATION_CSV.write_text(machine_condition(), encoding="utf-8")
    print(f"wrote {REGRESSION_CSV} and {CLASSIFICATION_CSV}")


if __name__ == "__main__":
    main()
