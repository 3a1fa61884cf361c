"""The layer registry is whole: every type of the core has every piece it needs, checked without torch.

Adding a layer type means one spec entry (``designer/core/layers_*.py``), one backend record
(``designer/backend/functions/``) and their tests; this file fails when any of them is missing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from designer.backend.functions import FUNCTIONS, UNIFORM_OPS
from designer.core import LAYER_SPECS, Layer
from designer.core.errors import LayerError
from designer.core.layer_table import layer_table
from designer.core.spec import FAMILIES, TRAITS, WEIGHTED
from tests.backend_grad.cases import random_case

ROOT = Path(__file__).resolve().parents[1]
TYPES = sorted(LAYER_SPECS)


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_has_a_backend_record_with_forward_and_vjp(type_name):
    record = FUNCTIONS.get(type_name)
    assert record is not None, f"{type_name}: no record in designer/backend/functions"
    assert callable(record.forward) and callable(record.backward) and callable(record.uniform_vjp)


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_documents_its_shape_and_formulas(type_name):
    spec = LAYER_SPECS[type_name]
    assert spec.doc and spec.shape_formula
    assert spec.family in FAMILIES, f"{type_name}: family {spec.family!r} has no palette group"
    assert set(spec.traits) <= TRAITS
    if spec.has_tensors:
        assert spec.params_text.__name__ != "_no_text", f"{type_name} has weights but no parameter formula"
    if spec.has(WEIGHTED):
        assert spec.macs_text.__name__ != "_no_text", f"{type_name} multiplies weights but has no MAC formula"
    for p in spec.params:
        assert p.doc, f"{type_name}.{p.name} has no doc"


def test_readme_table_is_generated_from_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert layer_table() in readme, "README.md's layer table is stale: run `python -m designer.core.layer_table README.md`"


def test_every_type_has_a_torch_oracle_entry():
    """The oracle (tests/oracle/torch_model.py) lists each type's hyperparameters it passes to torch."""
    tree = ast.parse((ROOT / "tests/oracle/torch_model.py").read_text(encoding="utf-8"))
    allowed = next(node.value for node in ast.walk(tree)
                   if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "_ALLOWED")
    keys = {k.value for k in allowed.keys}
    assert keys == set(LAYER_SPECS), sorted(keys ^ set(LAYER_SPECS))


def test_every_type_has_a_vjp_case_and_a_stored_reference():
    from tests.backend_grad.cases import GENERATORS

    assert set(GENERATORS) | {"Branch"} == set(LAYER_SPECS)


def test_no_type_name_lists_outside_the_registries():
    """The hand-kept lists the registry replaced stay gone."""
    for rel, name in [("designer/backend/grad/uniform.py", "LINEARISED"), ("designer/core/advice.py", "PASS_THROUGH"),
                      ("designer/backend/weights.py", "PARAMETRIC")]:
        assert name not in (ROOT / rel).read_text(encoding="utf-8"), f"{rel} keeps {name}"


PROBE = (64, 16, 16)
DEFAULT_SHAPE_FORMULA = "output shape = input shape"


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_starts_valid_from_the_palette(type_name):
    """A palette insertion starts with ``default_params``: every required hyperparameter needs a value there."""
    spec = LAYER_SPECS[type_name]
    missing = [p.name for p in spec.params if p.required and p.name not in spec.default_params]
    assert not missing, f"{type_name}: no starting value for {missing} in default_params"


@pytest.mark.parametrize("type_name", TYPES)
def test_a_type_that_changes_the_shape_states_its_formula(type_name):
    spec = LAYER_SPECS[type_name]
    hp = spec.hyperparameters(spec.default_params)
    try:
        out = spec.shape(PROBE, hp)
    except LayerError:  # needs a vector (Linear): its formula is checked on one
        out = spec.shape((PROBE[0],), hp)
    if out not in (PROBE, (PROBE[0],)):
        assert spec.shape_formula != DEFAULT_SHAPE_FORMULA, f"{type_name} changes the shape but has no shape formula"


@pytest.mark.parametrize("type_name", TYPES)
def test_the_uniform_rule_does_not_depend_on_the_input_values(type_name):
    """The uniform network (Luo et al.) sees the architecture only: its VJP must not read the input values
    (the ERF code feeds zero tensors). A nonlinear type registered without the ``uniform_identity`` trait
    would fall back to its real, input-dependent VJP and fail here."""
    rng = np.random.default_rng(len(type_name))
    if type_name == "Branch":  # two operands: a map and a 1×1 gate (concat: two maps)
        for merge in ("concat", "add", "mul"):
            layer = Layer("Branch", "b", {"merge": merge})
            shapes = [(3, 4, 5), (3, 4, 5) if merge == "concat" else (3, 1, 1)]
            gy = np.ones((6 if merge == "concat" else 3, 4, 5), np.float32)
            first, second = ([rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(2))
            for a, b in zip(UNIFORM_OPS["Branch"](layer, first, None, gy, {}, params=False)[0],
                            UNIFORM_OPS["Branch"](layer, second, None, gy, {}, params=False)[0]):
                np.testing.assert_array_equal(a, b)
        return
    case = random_case(type_name, rng)
    other = rng.standard_normal(case.x.shape).astype(np.float32) * 3
    grads = [UNIFORM_OPS[type_name](case.layer, [x], case.forward(x), case.gy, case.weights, params=False)[0][0]
             for x in (case.x, other)]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-6)
