"""Which problem a target column poses, decided from its raw CSV cells, and which labels are integers.

The API applies ``infer_problem_type`` to a sample of the target column when a request leaves out
``problemType``; the container applies ``is_integer_label`` to decide whether class labels are kept as
integers. Standard library only, so that the API can import it without numpy or torch.

The rule, over the non-blank cells of the column (a number is what ``float()`` reads, as the container
does):

1. A number that is not a whole number (``1.5``, ``1.0``, ``2e3``, ``nan``) makes it ``regression``,
   whatever else the column holds: a decimal point or an exponent says the values were measured, not
   enumerated. Text among such numbers (``N/A``, ``?``) is then dirty data, and the container's failure
   names its file and line; read as classes, every distinct number would silently become a class.
2. Otherwise a cell that is not a number (``setosa``, ``yes``) makes it ``classification``: the column
   holds labels (integer labels may be mixed in).
3. Otherwise (only whole numbers: digits with an optional sign) it is ``classification`` when they
   take at most 2 distinct values (binary labels such as 0/1 or -1/1, whatever the row count), or at
   most ``MAX_INFERRED_CLASSES`` (20) distinct values with at least ``MIN_ROWS_PER_CLASS`` (5) rows per
   value on average; otherwise ``regression``. Integer columns with more distinct values are usually
   counts, years or whole-unit amounts, and a "class" with fewer than 5 rows leaves at most one row in
   the 20% validation split. Either reading of an integer column trains, so a wrong guess costs model
   quality, not the job; ``problemType`` overrides it.

Class labels that are integers as ``str(int)`` writes them (``0``, ``-3``, ``17``; not ``+1`` or
``007``) are kept as integers by the container, the others as strings, so that predictions return the
labels of the file.

The rows-per-value condition only binds below ``STABLE_SAMPLE_ROWS`` (100) values, so from that sample
size on the decision depends only on which values occur: a sample of at least 100 rows decides as the
whole column does unless the rest of the column adds a decimal number, a first text label, or more
than 20 distinct integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CLASSIFICATION = "classification"
REGRESSION = "regression"
MAX_INFERRED_CLASSES = 20
"""The most distinct integer values that are read as class labels (beyond two)."""
MIN_ROWS_PER_CLASS = 5
"""The fewest rows per distinct integer value, on average, for integers to be read as class labels."""
STABLE_SAMPLE_ROWS = MAX_INFERRED_CLASSES * MIN_ROWS_PER_CLASS
"""From this many values on, only the distinct values decide: the size of a sample to infer from."""

_WHOLE = re.compile(r"[+-]?[0-9]+")
"""A whole number as a CSV may write one: digits with an optional sign (``7``, ``+7``, ``007``)."""
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
"""Integers exactly as ``str(int)`` writes them: no sign ``+``, no leading zero, no ``-0``."""


def is_integer_label(text: str) -> bool:
    """Whether ``text`` (already stripped) is an integer that reads back as the same text.

    Labels such as ``007`` or ``+1`` stay strings, so that a predicted label is the one in the file.
    """
    return _INTEGER.fullmatch(text) is not None


def is_number(text: str) -> bool:
    """Whether the container reads ``text`` as a number (finite or not), as ``float()`` and numpy do."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def infer_problem_type(values: Iterable[str]) -> str:
    """``"classification"`` or ``"regression"`` for a target column's raw CSV cells (see the module doc).

    Args:
        values: the target column's cells as read from the CSV file (a sample of at least
            ``STABLE_SAMPLE_ROWS`` rows, or the whole column); blank cells are ignored.

    Raises:
        ValueError: when every value is blank: there is nothing to decide from.
    """
    distinct: set[str] = set()
    count = 0
    text_labels = False
    for value in values:
        text = value.strip()
        if not text:
            continue
        if not is_number(text):
            text_labels = True
        elif not _WHOLE.fullmatch(text):
            return REGRESSION
        count += 1
        distinct.add(text)
    if count == 0:
        raise ValueError("the target column has no values to infer the problem type from")
    classes = len(distinct)
    if text_labels or classes <= 2 or (classes <= MAX_INFERRED_CLASSES and classes * MIN_ROWS_PER_CLASS <= count):
        return CLASSIFICATION
    return REGRESSION
