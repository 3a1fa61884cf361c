"""The layer registry is whole: every type of the core has every piece it needs, checked without torch.

Adding a layer type means one spec entry (``designer/core/layers_*.py``), one backend record
(``designer/backend/functions/``) and their tests; this file fails when any of them is missing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from designer.backend.functions import FUNCTIONS
from designer.core import LAYER_SPECS
from designer.core.layer_table import layer_table
from designer.core.spec import TRAITS, WEIGHTED

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
    assert spec.doc and spec.shape_formula and spec.family
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
