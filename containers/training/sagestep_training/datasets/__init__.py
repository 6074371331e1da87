"""Small bundled datasets for the local demo and the tests, written by ``generate.py`` beside this file.

- ``crop_yield.csv`` (regression, target ``yield_t_ha``): yield from rainfall, sunshine, soil pH,
  temperature and, last, fertilizer dose, whose sweep shows diminishing returns and over-fertilisation.
- ``machine_condition.csv`` (classification, target ``condition``: ``normal``/``warning``/``fault``):
  a machine's state from vibration, bearing temperature, load and speed, with curved class boundaries.
"""

from pathlib import Path

_HERE = Path(__file__).parent
REGRESSION_CSV = _HERE / "crop_yield.csv"
REGRESSION_TARGET = "yield_t_ha"
CLASSIFICATION_CSV = _HERE / "machine_condition.csv"
CLASSIFICATION_TARGET = "condition"
