"""Which problem a job solves when its request leaves out ``problemType``: decided at submission from a sample of
the target column, so that a 0/1 target is not silently trained as a regression.

The rule is the training container's (``sagestep_training.problem_type.infer_problem_type``, whose docstring gives
the reasons; the Lambda asset does not ship the container's package, and tests/unit/test_problem_type.py keeps the
two equal). Over the non-blank cells, a number being what ``float()`` reads:

1. a number that is not a whole number (``1.5``, ``1.0``, ``2e3``, ``nan``) -> regression, whatever else the
   column holds (text among measurements is dirty data, which the training job reports by line);
2. otherwise a cell that is not a number (``setosa``, ``yes``) -> classification;
3. otherwise (whole numbers only) -> classification for at most 2 distinct values, or at most ``MAX_CLASSES`` (20)
   with at least ``MIN_ROWS_PER_CLASS`` (5) rows per value on average; else regression (counts, years, amounts).

The sample is the first ``SAMPLE_BYTES`` of the file whose header the submission checked: thousands of rows of a
typical tabular CSV, and the rule decides as the whole column does from 100 rows on, unless the rest of the column
adds a decimal number, a first text label or more than 20 distinct integers. ``problemType`` overrides it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from sagestep_service.workflows.training.models import S3_URI_PATTERN, ProblemType

MAX_CLASSES = 20
MIN_ROWS_PER_CLASS = 5
#: Bytes of the data read at submission (one ranged GET).
SAMPLE_BYTES = 256 * 1024

_WHOLE = re.compile(r"[+-]?[0-9]+")


def is_number(cell: str) -> bool:
    """Whether the training container reads ``cell`` as a number (finite or not), as ``float()`` does."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def first_label(cells: Iterable[str]) -> str | None:
    """The first non-blank cell that is not a number (a class label), or None."""
    return next((cell.strip() for cell in cells if cell.strip() and not is_number(cell.strip())), None)


def infer(cells: Iterable[str]) -> ProblemType | None:
    """The problem type of a target column from its raw CSV cells (the rule in the module's docstring); None when
    every cell is blank (nothing to decide from)."""
    distinct: set[str] = set()
    count = 0
    labels = False
    for cell in cells:
        text = cell.strip()
        if not text:
            continue
        if not is_number(text):
            labels = True
        elif not _WHOLE.fullmatch(text):
            return "regression"
        count += 1
        distinct.add(text)
    if count == 0:
        return None
    classes = len(distinct)
    if labels or classes <= 2 or (classes <= MAX_CLASSES and classes * MIN_ROWS_PER_CLASS <= count):
        return "classification"
    return "regression"


def target_cells(text: str, target: str, *, complete: bool) -> list[str]:
    """The ``target`` column's raw cells in the CSV ``text`` (header first). Unless ``complete`` (``text`` is the
    whole file), its last line may be cut off and is dropped."""
    if not complete:
        text = text.rpartition("\n")[0]
    rows = csv.reader(io.StringIO(text))
    header = [column.strip() for column in next(rows, [])]
    if target not in header:
        return []
    position = header.index(target)
    return [row[position] for row in rows if len(row) > position]


def sample(s3: Any, data_uri: str, target: str) -> tuple[str, list[str]]:
    """The file the submission's data check read the header of (the file a URI names, or the first CSV file of a
    folder; ``datasets.check_data`` validated the location before) and the target cells of its first
    ``SAMPLE_BYTES``."""
    match = S3_URI_PATTERN.match(data_uri)
    assert match is not None, "checked by datasets.check_data"
    bucket, key = match["bucket"], match["key"]
    if data_uri.endswith("/"):
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=50)
        objects = [o for o in listing.get("Contents", []) if not o["Key"].endswith("/") and o.get("Size", 0) > 0]
        key = str(([o for o in objects if o["Key"].lower().endswith(".csv")] or objects)[0]["Key"])
    response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")
    body = response["Body"].read()
    total = int(str(response.get("ContentRange", "")).rpartition("/")[2] or len(body))
    text = body.decode("utf-8-sig", errors="replace")
    return key, target_cells(text, target, complete=len(body) >= total)
