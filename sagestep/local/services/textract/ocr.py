"""Text in images by OCR (RapidOCR, ONNX models shipped inside its wheel: nothing is downloaded).

RapidOCR answers text boxes (a quadrilateral in pixels, the text, a score). Each box becomes a LINE; its words get
boxes split from the line's box in proportion to their characters (RapidOCR does not locate words). The engine is
created once, on first use, and kept: loading it takes seconds, and one engine serves every job (calls are
serialised: the engine is not documented as thread-safe).
"""

from __future__ import annotations

import io
import threading
from typing import Any

from sagestep.local.services.textract.blocks import Line, PageText, Word


class UnreadableImage(Exception):
    """Not an image Pillow can read (Textract's UNSUPPORTED_DOCUMENT)."""


class OcrEngine:
    """A lazily created, shared RapidOCR engine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Any = None

    def _get(self) -> Any:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            self._engine = RapidOCR()
        return self._engine

    def read(self, image: Any, number: int = 1) -> PageText:
        """The lines of a PIL image, as page ``number``, in the order RapidOCR found them (top to bottom)."""
        rgb = image.convert("RGB")
        width, height = rgb.size
        with self._lock:
            result, _ = self._get()(rgb)
        lines = [_line(box, str(text), float(score), width, height) for box, text, score in result or []]
        return PageText(number, [line for line in lines if line.words])


def _line(box: list[list[float]], text: str, score: float, width: int, height: int) -> Line:
    xs, ys = [point[0] for point in box], [point[1] for point in box]
    left, right = max(0.0, min(xs)) / width, min(float(width), max(xs)) / width
    top, bottom = max(0.0, min(ys)) / height, min(float(height), max(ys)) / height
    tokens = text.split()
    total = sum(len(token) for token in tokens) + max(0, len(tokens) - 1)  # spaces count as characters
    words: list[Word] = []
    position = 0
    for token in tokens:
        start, end = position / total, (position + len(token)) / total
        words.append(Word(token, left + (right - left) * start, top, left + (right - left) * end, bottom, score * 100))
        position += len(token) + 1
    return Line(words, size=max(ys) - min(ys))


def image_frames(data: bytes) -> list[Any]:
    """The pages of an image file (one for PNG and JPEG, every frame of a TIFF) as PIL images."""
    from PIL import Image, ImageSequence

    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except Exception as exc:
        raise UnreadableImage(str(exc)) from None
    return frames
