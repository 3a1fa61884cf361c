"""Small builders shared by the core tests."""

from __future__ import annotations

from pathlib import Path

from designer.core import Design, analyze

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def example(name: str) -> Design:
    return Design.load(EXAMPLES / f"{name}.json")


def design(layers: list[dict], c: int = 3, h: int = 32, w: int = 32, **extra) -> Design:
    return Design.from_dict({"format": "cnn-designer/v1", "name": "t",
                             "input": {"channels": c, "height": h, "width": w}, "layers": layers, **extra})


def rows(layers: list[dict], c: int = 3, h: int = 32, w: int = 32, **kwargs):
    return {r.name: r for r in analyze(design(layers, c, h, w), **kwargs).rows}


def conv(name: str, out: int, k, **hp) -> dict:
    return {"type": "Conv2d", "name": name, "out_channels": out, "kernel_size": k, **hp}


def messages(analysis, level: str | None = None) -> list[str]:
    return [i.message for i in analysis.issues if level is None or i.level == level]
