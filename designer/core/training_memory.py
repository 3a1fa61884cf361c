"""Memory of one training step (and of one inference pass) as PyTorch's eager CPU mode allocates it.

A simulation over the whole step, tensor by tensor (every size is for the whole batch):

- **Before the step** live the parameters (and buffers), the optimizer state (sgd: none, momentum: one
  buffer per parameter, adam: two) and the input batch.
- **Forward**, op by op in execution order: the output is allocated (not for views and in-place
  activations), plus the new tensors the op saves for its backward (``LayerSpec.saves``: max-pool
  indices, dropout mask, normalisation statistics, in-place copies); its workspace lives for the op
  (:mod:`designer.core.memory_costs`). A tensor is freed once no later op reads it, unless a recorded
  op saved it (one tensor saved by two ops counts once). Ops whose inputs need no gradient and that
  own no parameters are not recorded (they save nothing), as in autograd.
- **Backward**, in reverse: the loss gradient (output-sized) starts it; each op allocates its input
  gradients (or passes its output gradient on: add, concat, views) and its parameter gradients, uses
  its workspace, then drops its output gradient and its saved tensors. A gradient reaching a tensor
  that already has one is added into it (the new one lives only during the addition).
  The loss is ``model(x).mean()``: the output is freed once the loss is computed (unless an op saved
  it). A caller that keeps ``out`` through the backward, or a loss that saves an output-sized tensor
  (cross-entropy's log-softmax, MSE), adds one or two output sizes; that matters only when the output is
  a feature map (inception3a at batch 8: 31.6 MB here, 38.0 MB with ``out`` kept, 45.2 MB with
  cross-entropy over the flattened map), not for a classifier's logits.
- The step is a steady one (the second and later): the optimizer state exists before it, as after
  the lazily initialising first step (that first step peaks lower for momentum/adam, by up to a quarter for
  parameter-heavy nets), and the gradients were cleared with ``zero_grad(set_to_none=True)``
  (``set_to_none=False`` keeps them alive through the step: + the parameter bytes).
- **Optimizer step**: sgd and momentum update in place; adam needs ``sqrt(v)`` and ``sqrt(v)/c + eps``
  for one parameter at a time next to the previous parameter's denominator:
  ``max_i (2·p_i + p_{i−1})``.

The peak is the largest total over the step, with what is alive there; ``timeline`` lists the total
by kind after every allocation so a view can draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .memory_costs import OpSizes, extra_saved_bytes, op_cost
from .spec import LAYER_SPECS, saved_kinds

KINDS = ("parameters", "optimizer state", "input", "saved activations", "activations",
         "parameter gradients", "activation gradients", "workspace")
"""Kinds of tensors, in the order a timeline stacks them."""

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class Op:
    """One op of the network in execution order; ``inputs``/``output`` are value ids (0: the input)."""

    name: str
    type: str
    inputs: tuple[int, ...]
    output: int
    hp: dict[str, Any]
    param_tensors: tuple[int, ...] = ()  # trainable tensor sizes in elements, state_dict order
    in_channels: int = 0
    out_channels: int = 0


@dataclass(frozen=True)
class Block:
    """One allocated tensor."""

    label: str
    kind: str
    nbytes: int
    layer: str


@dataclass(frozen=True)
class Point:
    """The live bytes by kind right after one allocation."""

    phase: str  # "start" | "forward" | "backward" | "optimizer"
    layer: str
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


@dataclass
class StepMemory:
    """Result of a simulation: the peak, where it happens, what is alive there, and the timeline."""

    peak: int = 0
    peak_index: int = 0
    peak_blocks: list[Block] = field(default_factory=list)
    timeline: list[Point] = field(default_factory=list)

    @property
    def peak_point(self) -> Point:
        return self.timeline[self.peak_index]

    def breakdown(self) -> dict[str, int]:
        """Bytes by kind at the peak."""
        return dict(self.peak_point.by_kind) if self.timeline else {}

    def largest_at_peak(self, count: int = 10) -> list[tuple[str, int]]:
        """``(layer, bytes)`` holding the most at the peak (parameters and state left out), largest first."""
        per_layer: dict[str, int] = {}
        for b in self.peak_blocks:
            if b.kind not in ("parameters", "optimizer state"):
                per_layer[b.layer] = per_layer.get(b.layer, 0) + b.nbytes
        return sorted(per_layer.items(), key=lambda kv: -kv[1])[:count]


class _Tracker:
    """Live blocks, the timeline and the peak."""

    def __init__(self, keep_timeline: bool) -> None:
        self.alive: dict[int, Block] = {}
        self.by_kind = dict.fromkeys(KINDS, 0)
        self.result = StepMemory()
        self.keep_timeline = keep_timeline
        self.next_id = 0
        self.phase, self.layer = "start", ""

    def alloc(self, label: str, kind: str, nbytes: int, layer: str) -> int:
        self.next_id += 1
        self.alive[self.next_id] = Block(label, kind, nbytes, layer)
        self.by_kind[kind] += nbytes
        return self.next_id

    def free(self, block: int | None) -> None:
        if block is not None and block in self.alive:
            b = self.alive.pop(block)
            self.by_kind[b.kind] -= b.nbytes

    def mark(self) -> None:
        total = sum(self.by_kind.values())
        r = self.result
        if self.keep_timeline or total > r.peak or not r.timeline:
            r.timeline.append(Point(self.phase, self.layer, dict(self.by_kind)))
        if total > r.peak or len(r.timeline) == 1:
            r.peak, r.peak_index = total, len(r.timeline) - 1
            r.peak_blocks = list(self.alive.values())

    def transient(self, label: str, nbytes: int, layer: str) -> None:
        """Workspace alive for one moment."""
        if nbytes > 0:
            block = self.alloc(label, "workspace", nbytes, layer)
            self.mark()
            self.free(block)


@dataclass
class _Net:
    """Values, storages and who uses them."""

    ops: list[Op]
    value_bytes: list[int]
    training: bool
    storage: list[int] = field(default_factory=list)  # value → storage id (a view shares its input's)
    needs_grad: list[bool] = field(default_factory=list)
    recorded: list[bool] = field(default_factory=list)  # per op
    last_use: dict[int, int] = field(default_factory=dict)  # storage → last op index reading it
    savers: dict[int, int] = field(default_factory=dict)  # storage → number of recorded ops saving it

    def __post_init__(self) -> None:
        self.storage = list(range(len(self.value_bytes)))
        self.needs_grad = [False] * len(self.value_bytes)
        for i, op in enumerate(self.ops):
            cost = op_cost(op.type)
            if cost.view(op.hp, self.training) and op.inputs:
                self.storage[op.output] = self.storage[op.inputs[0]]
            rec = self.training and (any(self.needs_grad[v] for v in op.inputs) or bool(op.param_tensors))
            self.recorded.append(rec)
            self.needs_grad[op.output] = rec
            for v in op.inputs:
                self.last_use[self.storage[v]] = i
            for s in self.shared_saves(i):
                self.savers[s] = self.savers.get(s, 0) + 1

    def _kinds(self, i: int) -> tuple[str, ...]:
        """What op ``i`` saves (``LayerSpec.saves``), nothing when autograd does not record it."""
        op = self.ops[i]
        if not self.recorded[i] or op.type not in LAYER_SPECS:
            return ()
        return saved_kinds(LAYER_SPECS[op.type], op.hp)

    def shared_saves(self, i: int) -> set[int]:
        """Storages of op ``i``'s inputs/output that it saves."""
        op, out = self.ops[i], set()
        for kind in self._kinds(i):
            if kind == "input":
                out.add(self.storage[op.inputs[0]])
            elif kind == "output":
                out.add(self.storage[op.output])
            elif kind == "operands":
                out.update(self.storage[v] for v in op.inputs)
        return out

    def extra_saves(self, i: int) -> list[str]:
        """The new tensors op ``i`` saves (indices, mask, statistics, copies)."""
        return [k for k in self._kinds(i) if k not in ("input", "output", "operands")]


class _Simulation:
    """Runs the forward, backward and optimizer phases over a :class:`_Net`."""

    def __init__(self, net: _Net, batch: int, dtype_bytes: int, keep_timeline: bool) -> None:
        self.net, self.batch, self.b = net, batch, dtype_bytes
        self.t = _Tracker(keep_timeline)
        self.blocks: dict[int, int] = {}  # storage → block
        self.owned: dict[int, list[int]] = {}  # op index → its extra saved blocks
        self.grads: dict[int, int] = {}  # value → gradient block
        self.grad_refs: dict[int, int] = {}  # gradient block → number of values pointing at it

    def nbytes(self, value: int) -> int:
        return self.net.value_bytes[value] * self.batch * self.b

    def sizes(self, i: int, gin: int = 0) -> OpSizes:
        op = self.net.ops[i]
        return OpSizes(
            inputs=tuple(self.nbytes(v) for v in op.inputs), out=self.nbytes(op.output),
            weights=max(op.param_tensors, default=0) * self.b, params=sum(op.param_tensors) * self.b,
            gin=gin, in_channels=op.in_channels, out_channels=op.out_channels, hp=op.hp,
            training=self.net.training, recorded=self.net.recorded[i], elem=self.b)

    # --- forward -------------------------------------------------------------------------------
    def forward(self) -> None:
        net, t = self.net, self.t
        t.phase = "forward"
        for i, op in enumerate(net.ops):
            t.layer = op.name
            s = self.sizes(i)
            new_output = net.storage[op.output] == op.output
            if new_output:
                kind = "saved activations" if net.savers.get(op.output) else "activations"
                self.blocks[op.output] = t.alloc(f"{op.name} output", kind, s.out, op.name)
            extras = [t.alloc(f"{op.name} {k}", "saved activations", extra_saved_bytes(k, s, self.batch),
                              op.name) for k in net.extra_saves(i)]
            self.owned[i] = extras
            t.transient(f"{op.name} workspace", op_cost(op.type).forward_peak(s) - s.out if new_output else 0,
                        op.name)
            t.mark()
            self.release_after_forward(i)
        if net.ops:
            final = net.storage[net.ops[-1].output]
            if final != 0 and not net.savers.get(final):
                self.free_storage(final)
            t.mark()

    def release_after_forward(self, i: int) -> None:
        net = self.net
        for v in set(net.ops[i].inputs):
            st = net.storage[v]
            last_reader = net.last_use.get(st) == i
            if st not in (0, self.final_storage()) and last_reader and not net.savers.get(st):
                self.free_storage(st)

    def final_storage(self) -> int:
        return self.net.storage[self.net.ops[-1].output] if self.net.ops else 0

    def free_storage(self, st: int) -> None:
        self.t.free(self.blocks.pop(st, None))

    # --- backward ------------------------------------------------------------------------------
    def backward(self) -> None:
        net, t = self.net, self.t
        t.phase = "backward"
        if not net.ops or not net.needs_grad[net.ops[-1].output]:
            return
        last = net.ops[-1]
        t.layer = "loss"
        loss_grad = t.alloc("loss gradient", "activation gradients", self.nbytes(last.output), "loss")
        self.set_grad(last.output, loss_grad)
        t.mark()
        for i in reversed(range(len(net.ops))):
            if net.recorded[i]:
                self.backward_op(i)

    def set_grad(self, value: int, block: int) -> None:
        """Give ``value`` the gradient ``block``, adding into an existing one (transient)."""
        if value in self.grads:
            self.t.transient(f"gradient sum at {self.t.layer}", self.t.alive[block].nbytes
                             if block in self.t.alive else 0, self.t.layer)
            self.drop_ref(block)
            return
        self.grads[value] = block
        self.grad_refs[block] = self.grad_refs.get(block, 0) + 1

    def take_ref(self, block: int) -> int:
        self.grad_refs[block] = self.grad_refs.get(block, 0) + 1
        return block

    def drop_ref(self, block: int) -> None:
        self.grad_refs[block] = self.grad_refs.get(block, 1) - 1
        if self.grad_refs[block] <= 0:
            self.t.free(block)

    def backward_op(self, i: int) -> None:
        net, t = self.net, self.t
        op = net.ops[i]
        t.layer = op.name
        cost = op_cost(op.type)
        targets = [v for v in dict.fromkeys(op.inputs) if net.needs_grad[v]]
        gout = self.grads.pop(op.output, None)
        gin = sum(self.nbytes(v) for v in targets)
        s = self.sizes(i, gin if cost.grad(op.hp) == "new" else 0)
        new_blocks = []
        for v in targets:
            if cost.grad(op.hp) == "pass" and gout is not None:
                self.set_grad(v, self.take_ref(gout))
            else:
                block = t.alloc(f"gradient of {op.name}'s input", "activation gradients", self.nbytes(v),
                                op.name)
                new_blocks.append(block)
                self.set_grad(v, block)
        if op.param_tensors:
            t.alloc(f"{op.name} weight gradients", "parameter gradients", s.params, op.name)
        t.transient(f"{op.name} backward workspace", cost.backward_peak(s) - s.gin - s.params, op.name)
        t.mark()
        if gout is not None:
            self.drop_ref(gout)
        self.release_saved(i)
        t.mark()

    def release_saved(self, i: int) -> None:
        for block in self.owned.pop(i, []):
            self.t.free(block)
        for st in self.net.shared_saves(i):
            self.net.savers[st] -= 1
            if self.net.savers[st] == 0 and st != 0:
                self.free_storage(st)

    # --- optimizer -----------------------------------------------------------------------------
    def optimizer_step(self, optimizer: str) -> None:
        t = self.t
        t.phase, t.layer = "optimizer", optimizer
        for block in list(self.grads.values()):
            self.drop_ref(block)
        self.grads.clear()
        if optimizer == "adam":
            sizes = [p * self.b for op in self.net.ops for p in op.param_tensors]
            worst = max((2 * p + (sizes[k - 1] if k else 0) for k, p in enumerate(sizes)), default=0)
            t.transient("adam sqrt(v) and denominator", worst, optimizer)
        t.mark()


def simulate(ops: Sequence[Op], value_elements: Sequence[int], *, batch: int, dtype_bytes: int,
             optimizer: str | None, params_bytes: int, keep_timeline: bool = False) -> StepMemory:
    """One training step (``optimizer`` given) or one inference pass (``optimizer=None``)."""
    training = optimizer is not None
    net = _Net(list(ops), list(value_elements), training)
    sim = _Simulation(net, batch, dtype_bytes, keep_timeline)
    t = sim.t
    t.alloc("parameters and buffers", "parameters", params_bytes, "")
    if training:
        trainable = sum(p for op in ops for p in op.param_tensors) * dtype_bytes
        t.alloc(f"{optimizer} state", "optimizer state", trainable * OPTIMIZER_STATES[optimizer], "")
    sim.blocks[0] = t.alloc("input batch", "input", sim.nbytes(0), "input")
    t.mark()
    sim.forward()
    if training:
        sim.backward()
        sim.optimizer_step(optimizer)
    return t.result
