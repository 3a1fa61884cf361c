"""Source text of the small definitions a generated module may need where ``torch.nn`` has no module.

Each is written into the generated file only when a layer uses it, so the file needs nothing but
torch. ``HELPERS`` maps a helper name to ``(source, needs torch.nn.functional)``.
"""

from __future__ import annotations

TF_SAME_PAD = '''\
def tf_same_pad(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """TensorFlow SAME padding for any stride: out = ceil(n / s); total padding
    max((out - 1)·s + d·(k - 1) + 1 - n, 0), the odd row/column at the bottom/right."""
    pads = []
    for n, k, s, d in zip(x.shape[:-3:-1], conv.kernel_size[::-1], conv.stride[::-1], conv.dilation[::-1]):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)
'''

SPATIAL_PYRAMID_POOL = '''\
class SpatialPyramidPool2d(nn.Module):
    """Spatial pyramid pooling (He et al. 2014): adaptive pools to n×n bins for each level n, each
    flattened, concatenated level by level: [N, C, H, W] → [N, C·Σn²] for any H, W."""

    def __init__(self, levels: tuple[int, ...] | list[int] = (4, 2, 1), mode: str = "max") -> None:
        super().__init__()
        self.levels, self.mode = tuple(levels), mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = F.adaptive_max_pool2d if self.mode == "max" else F.adaptive_avg_pool2d
        return torch.cat([pool(x, n).flatten(1) for n in self.levels], dim=1)

    def extra_repr(self) -> str:
        return f"levels={list(self.levels)}, mode={self.mode!r}"
'''

HELPERS: dict[str, tuple[str, bool]] = {
    "tf_same_pad": (TF_SAME_PAD, True),
    "SpatialPyramidPool2d": (SPATIAL_PYRAMID_POOL, True),
}


def load_pretrained_source(class_name: str, weights_file: str) -> str:
    """``load_pretrained()``: the module with the weights exported beside this file."""
    return f'''\
def load_pretrained(path: str | Path | None = None) -> {class_name}:
    """{class_name} in eval mode with the weights exported beside this file ({weights_file}), or those in
    ``path`` (a .safetensors file whose keys are this module's state_dict keys)."""
    from safetensors.torch import load_file

    net = {class_name}()
    net.load_state_dict(load_file(str(path or Path(__file__).with_name("{weights_file}"))))
    return net.eval()
'''
