"""Presentation of an ``Analysis``: text table (torchinfo-like), Markdown, CSV and JSON.

Numbers get units only here. Byte sizes are shown in MiB (2²⁰ bytes) with exact byte counts in
CSV and JSON.
"""

from __future__ import annotations

import csv
import io
import json

from .analysis import MACS_NOTE, Analysis, LayerRow
from .memory import TRAINING_NOTE
from .spec import fmt_shape

FORMATS = ("table", "markdown", "csv", "json")
LEVEL_MARK = {"error": "✗", "warning": "!", "hint": "·"}


def _scaled(n: int, units: tuple[tuple[str, int], ...], base: str) -> str:
    """``n`` in the largest unit it reaches, two decimals; astronomically large counts stay exact
    integers of the largest unit (a float would overflow)."""
    for unit, size in units:
        if n >= size:
            whole = n // size
            return f"{whole:,} {unit}" if whole >= 10**15 else f"{n / size:.2f} {unit}"
    return f"{n} {base}".rstrip()


def human_bytes(n: int) -> str:
    """``12_000_000`` → ``11.44 MiB``."""
    return _scaled(n, (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)), "B")


def human_count(n: int) -> str:
    """``15_470_264_320`` → ``15.47 G``."""
    return _scaled(n, (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)), "")


def rf_text(row: LayerRow) -> str:
    rf = row.receptive_field
    if rf is None:
        return "global" if row.output_shape is not None else "--"
    return f"{rf[0]}×{rf[1]}" if rf[0] != rf[1] else f"{rf[0]}"


def _issue_marks(row: LayerRow) -> str:
    return " ".join(f"{LEVEL_MARK[i.level]}{i.level}" for i in row.issues)


def _cells(row: LayerRow, total_params: int) -> list[str]:
    share = f"{100 * row.params / total_params:.1f}%" if total_params and row.params else ""
    return [
        "  " * row.depth + row.name, row.type, fmt_shape(row.output_shape), f"{row.params:,}", share,
        f"{row.macs:,}", rf_text(row), human_bytes(row.output_bytes), _issue_marks(row),
    ]


HEADERS = ["Layer", "Type", "Output shape", "Params", "% params", "MACs", "RF", "Output memory", "Issues"]


def footer_lines(a: Analysis) -> list[str]:
    t, m = a.totals, a.memory
    return [
        f"Input: {fmt_shape(a.input_shape)}   batch {a.batch_size}   {a.dtype}   optimizer {a.optimizer}",
        f"Total params: {t['params']:,} (trainable {t['trainable_params']:,}; buffers {t['buffers']:,})",
        f"MACs: {t['macs']:,} ({human_count(t['macs'])})   FLOPs: {t['flops']:,} ({human_count(t['flops'])})",
        (f"Input size: {human_bytes(m['input_bytes'])}   Params size: {human_bytes(m['params_bytes'])}   "
        f"Activations: {human_bytes(m['activations_bytes'])}"),
        f"Inference peak: {human_bytes(m['inference_peak_bytes'])} (one forward pass under torch.no_grad())",
        *memory_lines(a),
        f"Note: {MACS_NOTE}.",
        "Design is valid." if a.valid else "Design has errors.",
    ]


BREAKDOWN_LABELS = {
    "training_params_bytes": "parameters", "training_gradients_bytes": "gradients",
    "training_optimizer_bytes": "optimizer state", "training_saved_bytes": "saved activations",
    "training_input_bytes": "input", "training_transient_bytes": "transient",
}


def memory_lines(a: Analysis) -> list[str]:
    """The training-step peak, what it is, where it happens and what it is made of."""
    m, where = a.memory, a.memory_peak
    at = f", reached in the {where['phase']} pass at {where['layer']}" if where.get("layer") else ""
    if where.get("phase") == "optimizer":
        at = f", reached in the {where['layer']} optimizer step"
    parts = [f"{label} {human_bytes(m[key])}" for key, label in BREAKDOWN_LABELS.items() if key in m]
    return [f"Training step peak: {human_bytes(m['training_bytes'])} ({TRAINING_NOTE}, {a.dtype}, "
            f"{a.optimizer}){at}",
            "  at the peak: " + " + ".join(parts)]


def issue_lines(a: Analysis) -> list[str]:
    return [f"{LEVEL_MARK[i.level]} {i.level} [{i.layer}]: {i.message}" for i in a.issues]


def format_table(a: Analysis) -> str:
    rows = [_cells(r, a.totals["params"]) for r in a.rows]
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(HEADERS)]
    right = {3, 4, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths)))

    rule = "=" * len(line(HEADERS))
    out = [f"{a.design_name}", rule, line(HEADERS), rule, *(line(r).rstrip() for r in rows), rule]
    out += footer_lines(a)
    if a.issues:
        out += ["", "Issues:", *issue_lines(a)]
    return "\n".join(out) + "\n"


def format_markdown(a: Analysis) -> str:
    def md_row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [f"# {a.design_name}", "", md_row(HEADERS), md_row(["---"] * len(HEADERS))]
    for r in a.rows:
        cells = _cells(r, a.totals["params"])
        cells[0] = "&nbsp;&nbsp;" * r.depth + r.name
        out.append(md_row(cells))
    out += [""] + [f"- {line}" for line in footer_lines(a)]
    if a.issues:
        out += ["", "## Issues", ""] + [f"- {line}" for line in issue_lines(a)]
    return "\n".join(out) + "\n"


CSV_COLUMNS = ["name", "type", "depth", "input_shape", "output_shape", "params", "buffers", "macs",
               "receptive_field", "jump", "output_bytes", "issues"]


def _ascii_shape(shape) -> str:
    return "" if shape is None else "x".join(str(d) for d in shape)


def format_csv(a: Analysis) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in a.rows:
        rf, jump = r.receptive_field, r.jump
        writer.writerow([
            r.name, r.type, r.depth, _ascii_shape(r.input_shape), _ascii_shape(r.output_shape), r.params, r.buffers,
            r.macs, "" if rf is None else f"{rf[0]}x{rf[1]}", "" if jump is None else f"{jump[0]}x{jump[1]}",
            r.output_bytes, "; ".join(f"{i.level}: {i.message}" for i in r.issues),
        ])
    t = a.totals
    writer.writerow(["TOTAL", "", "", _ascii_shape(a.input_shape), "", t["params"], t["buffers"], t["macs"], "", "",
                     a.memory["activations_bytes"], f"FLOPs = 2 x MACs = {t['flops']}"])
    for key, value in a.memory.items():
        writer.writerow([f"MEMORY {key}", "", "", "", "", "", "", "", "", "", value,
                         f"batch {a.batch_size}, {a.dtype}, optimizer {a.optimizer}"])
    writer.writerow(["NOTE", "", "", "", "", "", "", "", "", "", "", MACS_NOTE])
    return buffer.getvalue()


def format_json(a: Analysis) -> str:
    return json.dumps(a.to_dict(), indent=2, ensure_ascii=False) + "\n"


def format_analysis(a: Analysis, fmt: str) -> str:
    formatters = {"table": format_table, "markdown": format_markdown, "csv": format_csv, "json": format_json}
    if fmt not in formatters:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return formatters[fmt](a)
