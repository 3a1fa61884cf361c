"""Layer names must be usable as PyTorch module names and ``state_dict`` prefixes."""

from __future__ import annotations

import pytest

from designer.core import Design, DesignFormatError


def _design(name: str) -> dict:
    return {"format": "cnn-designer/v1", "name": "n", "input": {"channels": 3, "height": 8, "width": 8},
            "layers": [{"type": "ReLU", "name": name}]}


@pytest.mark.parametrize("name", ["a.b", ".", "layer1.0"])
def test_a_dot_in_a_layer_name_is_a_format_error_naming_the_field(name):
    with pytest.raises(DesignFormatError, match="field 'name'.*cannot contain '\\.'"):
        Design.from_dict(_design(name), "net.json")


@pytest.mark.parametrize("name", ["conv-1", "0conv", "with space", "ünï"])
def test_names_that_are_not_identifiers_still_load(name):
    assert Design.from_dict(_design(name)).layers[0].name == name
