"""The labeling demo's and tests' data: short product reviews with their true sentiment (the answer key the local
simulated workforce answers from, ``sagestep-answer``), generated deterministically from a seed — no download."""

from __future__ import annotations

import json
import random

CLASSES = ("positive", "negative", "neutral")
_SUBJECTS = ("The battery", "This kettle", "The delivery", "The manual", "Customer support", "The strap", "The app",
             "The screen", "The lid", "The charger", "Setup", "The fabric")  # fmt: skip
_PHRASES = {
    "positive": ("works beautifully", "exceeded my expectations", "is a joy to use", "is sturdy and well made",
                 "was quick and painless", "is worth every penny"),
    "negative": ("broke after two days", "is a waste of money", "stopped working", "feels cheap and flimsy",
                 "was slow and unhelpful", "arrived damaged"),
    "neutral": ("is as described", "does what it says", "arrived on Tuesday", "comes in a grey box",
                "is about average", "has a standard size"),
}  # fmt: skip


def reviews(count: int, seed: int = 7) -> list[dict[str, str]]:
    """``count`` manifest lines ``{"source": <review>, "sagestep-answer": <class>}``, the classes balanced."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        label = CLASSES[index % len(CLASSES)]
        text = f"{rng.choice(_SUBJECTS)} {rng.choice(_PHRASES[label])} (review {index + 1})."
        lines.append({"source": text, "sagestep-answer": label})
    rng.shuffle(lines)
    return lines


def manifest(count: int, seed: int = 7) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in reviews(count, seed)).encode()


def categories() -> bytes:
    return json.dumps({"document-version": "2018-11-28", "labels": [{"label": c} for c in CLASSES]}).encode()
