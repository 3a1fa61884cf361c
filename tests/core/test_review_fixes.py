"""Review of issues 9 and 10: writing to special files, text inside hyperparameter values, the redundant-bias
advice from traits, and broadcast-merge messages."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

from designer.core import Design, DesignFormatError, analyze
from designer.core.files import RefusedFileError, atomic_write_bytes


def design(layers: list, c: int = 3, h: int = 8, w: int = 8) -> Design:
    return Design.from_dict({"format": "cnn-designer/v1", "name": "d",
                             "input": {"channels": c, "height": h, "width": w}, "layers": layers})


# --- atomic_write on special files -----------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_writing_to_a_fifo_writes_into_it_and_keeps_it_a_fifo(tmp_path):
    """Renaming a temporary file over it would replace the FIFO (or ``/dev/null``) with a plain file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while True:  # until the reader thread has the FIFO open (before that, opening to write fails: ENXIO)
        try:
            atomic_write_bytes(fifo, b"payload")
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    thread.join(10)
    assert received == [b"payload"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_without_reader_fails_at_once_instead_of_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        atomic_write_bytes(fifo, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_writing_to_a_character_device_writes_in_place():
    """``--out /dev/null`` used to replace the device with a plain file (as root). A pseudo-terminal stands in
    for it here: a character device of our own, where a regression cannot break the machine's /dev/null."""
    leader, follower = os.openpty()
    try:
        path = os.ttyname(follower)
        atomic_write_bytes(path, b"written in place")
        assert stat.S_ISCHR(os.stat(path).st_mode)
        assert os.read(leader, 100).startswith(b"written in place")
    finally:
        os.close(leader)
        os.close(follower)


def test_a_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(RefusedFileError, match="not a regular file"):
        atomic_write_bytes(tmp_path, b"x")
    assert list(tmp_path.iterdir()) == []  # no temporary file left


# --- text inside hyperparameter values --------------------------------------------------------------
def test_a_lone_surrogate_inside_a_hyperparameter_value_is_refused_at_load(tmp_path):
    """It used to load (an analysis error only) and then every save failed."""
    path = tmp_path / "d.json"
    path.write_text('{"format": "cnn-designer/v1", "input": {"channels": 1, "height": 8, "width": 8}, '
                    '"layers": [{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 3, '
                    '"init": {"preset": "\\ud800"}}]}', encoding="utf-8")
    with pytest.raises(DesignFormatError, match=r"layer 'c' .*field 'init'.*lone surrogate"):
        Design.load(path)


# --- advice from traits -------------------------------------------------------------------------------
def test_redundant_bias_before_batch_norm_is_found_for_every_weighted_type():
    d = design([{"type": "ConvTranspose2d", "name": "t", "out_channels": 4, "kernel_size": 2, "stride": 2},
                {"type": "BatchNorm2d", "name": "bn"},
                {"type": "Conv2d", "name": "c", "out_channels": 6, "kernel_size": 1},
                {"type": "GroupNorm", "name": "gn", "num_groups": 6},
                {"type": "Conv2d", "name": "k", "out_channels": 6, "kernel_size": 1},
                {"type": "GroupNorm", "name": "gn2", "num_groups": 3}])
    hints = {i.layer: i.message for i in analyze(d).issues if "redundant" in i.message}
    assert set(hints) == {"t", "c"}  # GroupNorm with 2 channels per group keeps the bias differences
    assert "save 4 parameters" in hints["t"] and "save 6 parameters" in hints["c"]


# --- broadcast merge messages ------------------------------------------------------------------------
@pytest.mark.parametrize("merge", ["add", "mul"])
def test_a_merge_that_does_not_broadcast_names_the_dimension_in_plain_english(merge):
    d = design([{"type": "Branch", "name": "br", "merge": merge, "branches": [
        [], [{"type": "MaxPool2d", "name": "p", "kernel_size": 2}]]}])
    errors = [i for i in analyze(d).issues if i.level == "error"]
    assert len(errors) == 1 and errors[0].layer == "br"
    assert "heights differ (4 vs 8) and do not broadcast" in errors[0].message


# --- starting hyperparameters from the spec ----------------------------------------------------------------
@pytest.mark.parametrize("in_shape", [None, (3, 8, 8), (48, 4, 4), (10,), (7, 3, 3)])
def test_the_spec_gives_the_starting_hyperparameters_of_every_type(in_shape):
    """``spec.starting_params(in_shape)`` replaces the ``if type_name == …`` chain of ``templates.default_layer``
    and gives a valid layer wherever it is inserted."""
    from designer.core import LAYER_SPECS
    from designer.core.templates import default_layer

    for type_name, spec in LAYER_SPECS.items():
        assert spec.starting_params(in_shape) == dict(default_layer(type_name, in_shape).params), type_name
    assert LAYER_SPECS["GroupNorm"].starting_params((48, 4, 4))["num_groups"] == 24
    assert LAYER_SPECS["Conv2d"].starting_params((3, 8, 8))["out_channels"] == 64
