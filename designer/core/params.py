"""Hyperparameter descriptions: type checking of file values and their normalised form.

A ``ParamSpec`` validates one raw JSON value (``check``) and turns it into the form the
analysis and backend use (``normalize``): pairs become ``(h, w)`` tuples, optional values stay
``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REQUIRED = object()  # sentinel default: the field must be given


def pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    """PyTorch's ``_pair``: an int ``n`` becomes ``(n, n)``."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter of a layer type.

    ``kind`` is one of: ``int``, ``pair`` (int or ``[h, w]``), ``opt_int``, ``opt_pair``
    (``None`` allowed), ``padding`` (pair or ``"same"``/``"valid"``), ``float``, ``scale``
    (number or pair of numbers), ``bool``, ``choice``, ``levels`` (list of positive ints),
    ``init`` (kernel initialisation object), ``pad4`` (int or ``[left, right, top, bottom]``, PyTorch's
    ``ZeroPad2d`` order).
    """

    name: str
    kind: str
    default: Any = REQUIRED
    doc: str = ""
    minimum: float = 1
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` with a reason when ``value`` is not acceptable."""
        checker = getattr(self, f"_check_{self.kind}")
        checker(value)

    def normalize(self, value: Any) -> Any:
        """The form used by shape arithmetic and kernels."""
        if value is None:
            return None
        if self.kind in ("pair", "opt_pair"):
            return pair(value)
        if self.kind == "padding":
            return value if isinstance(value, str) else pair(value)
        if self.kind == "pad4":
            return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value),) * 4
        if self.kind == "scale":
            return tuple(float(v) for v in value) if isinstance(value, (list, tuple)) else (float(value),) * 2
        if self.kind == "float":
            return float(value)
        if self.kind == "levels":
            return tuple(int(v) for v in value)
        return value

    # --- checkers -------------------------------------------------------------------------
    def _bound_text(self) -> str:
        return "a positive integer" if self.minimum == 1 else f"an integer ≥ {int(self.minimum)}"

    def _check_int(self, value: Any) -> None:
        if not _is_int(value) or value < self.minimum:
            raise ValueError(f"must be {self._bound_text()}, got {value!r}")

    def _check_opt_int(self, value: Any) -> None:
        if value is not None:
            self._check_int(value)

    def _check_pair(self, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        if isinstance(value, (list, tuple)) and len(value) != 2:
            raise ValueError(f"must be {self._bound_text()} or an [h, w] pair, got {value!r}")
        if not all(_is_int(v) and v >= self.minimum for v in items):
            raise ValueError(f"must be {self._bound_text()} or an [h, w] pair of them, got {value!r}")

    def _check_opt_pair(self, value: Any) -> None:
        if value is not None:
            self._check_pair(value)

    def _check_padding(self, value: Any) -> None:
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise ValueError(f"must be an integer, an [h, w] pair, 'same' or 'valid', got {value!r}")
            return
        self._check_pair(value)

    def _check_pad4(self, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        if isinstance(value, (list, tuple)) and len(value) != 4:
            raise ValueError(f"must be {self._bound_text()} or a [left, right, top, bottom] list, got {value!r}")
        if not all(_is_int(v) and v >= self.minimum for v in items):
            raise ValueError(f"must be {self._bound_text()} or a [left, right, top, bottom] list of them, "
                             f"got {value!r}")

    def _check_float(self, value: Any) -> None:
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            upper = f" and ≤ {self.maximum:g}" if self.maximum is not None else ""
            raise ValueError(f"must be ≥ {self.minimum:g}{upper}, got {value!r}")

    def _check_scale(self, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        if isinstance(value, (list, tuple)) and len(value) != 2:
            raise ValueError(f"must be a positive number or an [h, w] pair, got {value!r}")
        if not all(_is_number(v) and math.isfinite(v) and v > 0 for v in items):
            raise ValueError(f"must be a positive finite number or an [h, w] pair, got {value!r}")

    def _check_bool(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")

    def _check_choice(self, value: Any) -> None:
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")

    def _check_levels(self, value: Any) -> None:
        if not isinstance(value, list) or not value or not all(_is_int(v) and v >= 1 for v in value):
            raise ValueError(f"must be a non-empty list of positive integers, got {value!r}")

    def _check_init(self, value: Any) -> None:
        preset = value.get("preset") if isinstance(value, dict) else None
        names = [preset] if isinstance(preset, str) else preset
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"must be an object {{\"preset\": [name per output channel]}}, got {value!r}")
        if set(value) - {"preset"}:
            raise ValueError(f"unknown key(s) {sorted(set(value) - {'preset'})} in init")
