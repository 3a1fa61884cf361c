"""Issue 9, items 3 and 9: designs are read only from regular files of bounded size; every write is atomic,
keeps the file's mode, follows symbolic links and is fsync-ed."""

from __future__ import annotations

import os
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest

from designer.core import Design, DesignFormatError
from designer.core import files
from designer.core.files import atomic_write, atomic_write_bytes, read_limited
from designer.core.serialization import MAX_DESIGN_BYTES

DESIGN = {"format": "cnn-designer/v1", "input": {"channels": 1, "height": 8, "width": 8},
          "layers": [{"type": "ReLU", "name": "r"}]}


def small_design() -> Design:
    return Design.from_dict(DESIGN)


def finishes(action, seconds: float = 10.0):
    """``action()``'s result or exception, failing the test instead of hanging when it blocks."""
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = action()
        except BaseException as exc:  # noqa: BLE001 (handed back to the test)
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    return box


# --- item 3: what is read --------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "design.json"
    os.mkfifo(fifo)
    outcome = finishes(lambda: Design.load(fifo))
    assert isinstance(outcome.get("error"), DesignFormatError)
    assert str(outcome["error"]) == f"{fifo}: cannot read the file: not a regular file (a FIFO)"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_device_is_refused_before_reading():
    outcome = finishes(lambda: Design.load("/dev/zero"))
    assert "not a regular file (a character device)" in str(outcome.get("error"))


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(DesignFormatError, match="not a regular file"):
        Design.load(tmp_path)


def test_files_over_the_limit_are_refused_before_reading(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as handle:  # sparse: nothing is written, the size is what matters
        handle.truncate(MAX_DESIGN_BYTES + 1)
    tracemalloc.start()
    try:
        with pytest.raises(DesignFormatError, match=r"big\.json: cannot read the file: the file holds "
                                                    r"67,108,865 bytes, more than the 67,108,864 allowed"):
            Design.load(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing was read
    assert MAX_DESIGN_BYTES == 64 * 2**20  # the limit the README's "Limits" section documents


def test_read_limited_refuses_a_file_that_grows_past_the_limit(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, 10) == b"x" * 10
    with pytest.raises(files.RefusedFileError, match="more than the 9 allowed"):
        read_limited(path, 9)


# --- item 9: how everything is written ------------------------------------------------------
def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "d.json"
    path.write_text("old")
    os.chmod(path, 0o664)
    small_design().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert Design.load(path).layers[0].name == "r"


def test_a_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "new.bin", b"1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_symlink_is_written_through_to_its_target(tmp_path):
    real = tmp_path / "real" / "design.json"
    real.parent.mkdir()
    real.write_text("stale")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    small_design().save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert Design.load(real).layers[0].name == "r"
    assert sorted(p.name for p in real.parent.iterdir()) == ["design.json"]


def test_data_and_folder_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
                        or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append(("replace", None)) or real_replace(a, b))
    atomic_write_bytes(tmp_path / "x", b"data")
    assert events == [("fsync", False), ("replace", None), ("fsync", True)]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")

    def fail(handle) -> None:
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_paths_are_written_exactly_as_given(tmp_path):
    target = atomic_write(tmp_path / "cov", lambda handle: handle.write(b"1"))
    assert target == tmp_path / "cov" and [p.name for p in tmp_path.iterdir()] == ["cov"]
