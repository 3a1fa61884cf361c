"""Run a design on one image, keep every layer's output, and re-run only what an edit changed.

``Runner(design, weights=None, seed=0).run(x)`` returns ``{layer name: output}`` for every layer,
nested ones too (``[C, H, W]`` maps or ``[F]`` vectors, float32). After ``runner.update(new_design)``
the next ``run`` recomputes only the steps at and after the first changed one (see
:mod:`.graph`); ``kernel_calls`` counts the layers actually computed. A run can be cancelled
between layers and, through :mod:`.cancel`, inside long kernels; it reports progress ``(i, n, layer name)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping

import numpy as np

from designer.core import Design

from .cancel import Cancelled, cancellable
from .graph import Step, compile_design, first_change
from .graph import signatures as step_signatures
from .kernels._util import BufferPool, using_pool
from .layer_ops import LAYER_OPS
from .weights import (
    Weights,
    check_weights,
    expected_shapes,
    has_weights,
    init_layer,
    input_shapes,
    layer_weight_shapes,
)

Progress = Callable[[int, int, str], None]


def reclaim(stale: list[np.ndarray]) -> BufferPool:
    """The memory of previous outputs that nothing outside the runner still references.

    An output (or the buffer it is a view of) is recycled only when its reference count shows
    no other holder: a caller who kept the previous result dict, or any slice of it, keeps its
    arrays intact. ``stale`` is emptied.
    """
    pool, seen = BufferPool(), set()
    while stale:
        arr = stale.pop()
        owner = arr if arr.base is None else arr.base
        if isinstance(owner, np.ndarray) and owner.base is None and id(owner) not in seen:
            # references: the names ``arr`` and ``owner`` (one object or a view and its base, which
            # ``arr.base`` also holds) and getrefcount's argument
            if owner is arr:
                free = sys.getrefcount(arr) == 3
            else:
                free = sys.getrefcount(arr) == 2 and sys.getrefcount(owner) == 3
            if free and owner.dtype == np.float32 and owner.flags.c_contiguous and owner.flags.writeable:
                seen.add(id(owner))
                pool.add(owner.reshape(-1))
        del arr, owner
    return pool


class RunError(ValueError):
    """A layer failed to run; the message names the layer."""


class Runner:
    """Executes a design with the NumPy kernels (see the module docstring)."""

    def __init__(self, design: Design, weights: Mapping[str, np.ndarray] | None = None, seed: int = 0) -> None:
        self.seed = seed
        self.kernel_calls = 0
        self.last_computed: list[str] = []
        self.last_timings: dict[str, float] = {}  # seconds per layer computed by the last run
        self._design = design
        self._weights: Weights = {}
        self._init_keys: dict[str, tuple] = {}
        self._input: np.ndarray | None = None
        self._outputs: list[np.ndarray] = []  # tensor i + 1 for step i, valid for the cached prefix
        self._discarded: list[np.ndarray] = []  # outputs dropped by invalidate(), recycled by the next run
        self._signatures: list[tuple] = []
        self._sig_weights: Weights = {}  # keeps the arrays behind the signatures' ids alive
        if weights is not None:
            self._weights = check_weights(weights, expected_shapes(design))
            self._mark_loaded(design)
        self._sync_weights()
        self._steps = compile_design(design)

    @property
    def design(self) -> Design:
        return self._design

    @property
    def weights(self) -> Weights:
        """``{"<layer>.weight": …}`` in PyTorch ``state_dict`` layouts (shared, do not mutate in place).

        Weights passed to the constructor, ``update`` or ``set_weights`` are copied, so the caller may edit
        its own arrays afterwards; changed weights take effect through ``set_weights``.
        """
        return self._weights

    def update(self, design: Design, weights: Mapping[str, np.ndarray] | None = None) -> None:
        """Switch to an edited design (and optionally new weights); the next ``run`` reuses what it can.

        Layers whose name, type, init setting and tensor shapes are unchanged keep their weights;
        new or reshaped layers get fresh ones.
        """
        self._design = design
        if weights is not None:
            self._weights = check_weights(weights, expected_shapes(design))
            self._mark_loaded(design)
        self._sync_weights()
        self._steps = compile_design(design)

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Replace all weights (checked against the design)."""
        self.update(self._design, weights)

    def invalidate(self) -> None:
        """Forget the cached outputs: the next ``run`` computes every layer (and recycles their memory)."""
        self._discarded.extend(self._outputs)
        self._input, self._outputs, self._signatures = None, [], []

    def run(self, x: np.ndarray, progress: Progress | None = None,
            cancel: Callable[[], bool] | None = None) -> dict[str, np.ndarray]:
        """Outputs of every layer for input ``x [C, H, W]`` (already normalised).

        ``x`` is copied: editing it in place afterwards and running again recomputes, as for a new image.
        """
        x = np.array(x, dtype=np.float32, order="C", copy=True)
        if x.ndim != 3 or x.shape[0] != self._design.input.channels:
            raise RunError(f"input: expected a [{self._design.input.channels}, H, W] array, got shape {list(x.shape)}")
        signatures = step_signatures(self._steps, self._weights)
        start = first_change(self._signatures, signatures) if self._same_input(x) else 0
        stale = self._outputs[start:] + self._discarded
        self._discarded = []
        tensors: list[np.ndarray] = [x, *self._outputs[:start]]
        self._input, self._signatures, self._outputs = x, signatures[:start], tensors[1:]
        pool = reclaim(stale)
        self._sig_weights = dict(self._weights)
        self.last_computed, self.last_timings = [], {}
        n = len(self._steps)
        with using_pool(pool), cancellable(cancel):  # long kernels call cancel.check_cancel() between chunks
            for i in range(start, n):
                if cancel is not None and cancel():
                    raise Cancelled(f"cancelled before layer {i + 1} of {n}")
                step = self._steps[i]
                if progress is not None:
                    progress(i, n, step.name)
                t0 = time.perf_counter()
                tensors.append(self._execute(step, tensors))
                self.last_timings[step.name] = time.perf_counter() - t0
                self._outputs.append(tensors[-1])
                self._signatures.append(signatures[i])
        if progress is not None:
            progress(n, n, "")
        return {step.name: tensors[step.output] for step in self._steps}

    # --- gradients (designer.backend.gradients does the work) --------------------------------
    def input_gradient(self, layer: str, channel: int | None, y: int | None = None, x: int | None = None,
                       image: np.ndarray | None = None) -> np.ndarray:
        """``∂ out[channel, y, x] / ∂ input`` as ``[C, H, W]`` from the cached forward pass of the last image
        (or of ``image``); ``channel=None`` differentiates the sum over channels."""
        from .gradients import input_gradient

        return input_gradient(self, self._last_image(image), layer, channel, y, x)

    def effective_rf(self, layer: str, unit: tuple[int, int] | None = None, uniform: bool = False,
                     image: np.ndarray | None = None, channel: int | None = None):
        """The effective receptive field of ``layer`` at ``unit`` (centre by default); see gradients.py."""
        from .gradients import effective_rf

        return effective_rf(self, None if uniform else self._last_image(image), layer, unit, uniform, channel)

    def _last_image(self, image: np.ndarray | None) -> np.ndarray:
        if image is not None:
            return image
        if self._input is None:
            raise RunError("run an image first: gradients use the cached forward pass")
        return self._input

    # --- internals ---------------------------------------------------------------------------
    def _execute(self, step: Step, tensors: list[np.ndarray]) -> np.ndarray:
        self.kernel_calls += 1
        self.last_computed.append(step.name)
        try:
            return LAYER_OPS[step.layer.type](step.layer, [tensors[i] for i in step.inputs], self._weights)
        except (ValueError, KeyError, IndexError) as exc:
            shapes = ", ".join("×".join(map(str, tensors[i].shape)) for i in step.inputs)
            raise RunError(f"layer '{step.name}' ({step.layer.type}) on input {shapes}: {exc}") from None

    def _same_input(self, x: np.ndarray) -> bool:
        prev = self._input
        return prev is not None and prev.shape == x.shape and np.array_equal(prev, x)

    def _sync_weights(self) -> None:
        """Keep fitting weights, initialise the rest, drop tensors of layers that are gone.

        A layer keeps its tensors when their shapes still fit and its ``init`` setting is the one
        they were made (or loaded) with; otherwise it gets fresh ones.
        """
        in_shapes = input_shapes(self._design)
        new: Weights = {}
        keys: dict[str, tuple] = {}
        for _, layer in self._design.walk():
            if not has_weights(layer):
                continue
            init = repr(layer.hp.get("init"))  # a kernel preset or PReLU's starting slope
            old = self._init_keys.get(layer.name)
            shapes = layer_weight_shapes(layer, in_shapes[layer.name])
            tensors = {k: self._weights[k] for k in shapes if k in self._weights}
            fits = len(tensors) == len(shapes) and all(tensors[k].shape == s for k, s in shapes.items())
            if fits and old is not None and old[1] == init and old[0] in ("loaded", self.seed):
                new.update(tensors)
                keys[layer.name] = old
            else:
                new.update(init_layer(layer, in_shapes[layer.name], self.seed))
                keys[layer.name] = (self.seed, init)
        self._weights, self._init_keys = new, keys

    def _mark_loaded(self, design: Design) -> None:
        self._init_keys = {layer.name: ("loaded", repr(layer.hp.get("init")))
                           for _, layer in design.walk() if has_weights(layer)}
