"""How much one run may allocate: the memory guard shared by the command line and the window.

A run of one image keeps every layer's output, so it needs ``input_bytes + activations_bytes`` of the
design's analysis at batch 1, float32 (:mod:`designer.core.memory`). The analysis knows this without
allocating anything, so a 3×16000×16000 input is refused before a single array exists.
"""

from __future__ import annotations

from designer.core import Analysis, Design, analyze
from designer.core.formatting import human_bytes

RUN_MEMORY_LIMIT = 4 * 2**30  # bytes of activations one run may need before it is refused


def run_memory_bytes(report: Analysis) -> int:
    """Bytes of the input, every layer output and the weights of one run (``report`` at batch 1, float32)."""
    memory = report.memory
    return int(memory["input_bytes"] + memory["activations_bytes"] + memory["params_bytes"])


def run_memory_refusal(design: Design, limit: int = RUN_MEMORY_LIMIT, report: Analysis | None = None) -> str | None:
    """``None`` when a single-image run fits in ``limit`` bytes, else one sentence saying why not.

    ``report`` must be the design's analysis at batch 1 and float32 when given."""
    if report is None or report.batch_size != 1 or report.dtype != "float32":
        report = analyze(design)
    needed = run_memory_bytes(report)
    if needed <= limit:
        return None
    return (f"running this design on one image needs {human_bytes(needed)} of activations, more than the "
            f"{human_bytes(limit)} allowed; use a smaller input size")
