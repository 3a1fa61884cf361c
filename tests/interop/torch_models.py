"""Small PyTorch models for the import tests (imported only when torch is installed).

Each builder returns an eval-mode module with non-trivial BatchNorm statistics, for 3×32×32 inputs
(channel counts kept small so that exporting and running stay fast).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


def _randomise_norms(model: nn.Module) -> nn.Module:
    """Running statistics and affine parameters away from identity, so folding them is visible."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and m.weight is not None:
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
    return model.eval()


def conv_bn(
    cin: int, cout: int, k: int = 3, stride: int = 1, act: type[nn.Module] = nn.ReLU, groups: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), act()
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(cout), nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (
            None
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2))
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.maxpool(self.stem(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 8, stride=2)
        self.b1 = conv_bn(8, 4, 1)
        self.b2 = nn.Sequential(conv_bn(8, 4, 1), conv_bn(4, 6, 3))
        self.b3 = nn.Sequential(conv_bn(8, 2, 1), conv_bn(2, 4, 3), conv_bn(4, 4, 3))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn(8, 4, 1))
        self.pool = nn.AvgPool2d(4)
        self.head = nn.Linear(18 * 4 * 4, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)
        return torch.softmax(self.head(torch.flatten(self.pool(x), 1)), 1)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            conv_bn(cin, hidden, 1, act=nn.ReLU6),
            conv_bn(hidden, hidden, 3, stride, act=nn.ReLU6, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, 8, stride=2, act=nn.ReLU6),
            InvertedResidual(8, 8, 1, 2),
            InvertedResidual(8, 12, 2, 3),
            InvertedResidual(12, 12, 1, 3),
            conv_bn(12, 32, 1, act=nn.ReLU6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 10))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1, self.enc2 = conv_bn(3, 8), conv_bn(8, 16)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = conv_bn(16, 16)
        self.up2 = nn.ConvTranspose2d(16, 16, 2, 2)
        self.dec2 = conv_bn(32, 8)
        self.up1 = nn.ConvTranspose2d(8, 8, 2, 2)
        self.dec1 = conv_bn(16, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        b = self.bottleneck(self.pool(e2))
        d2 = self.dec2(torch.cat([e2, self.up2(b)], 1))
        return self.out(self.dec1(torch.cat([e1, self.up1(d2)], 1)))


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, squeeze, 1), nn.Conv2d(squeeze, c, 1)
        self.act, self.gate = nn.SiLU(), nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))))


class ClassicSE(nn.Module):
    """SENet's own spelling: vectors through Linear layers, ``view`` back and ``expand_as``."""

    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(c, squeeze, bias=False), nn.ReLU(inplace=True), nn.Linear(squeeze, c), nn.Sigmoid()
        )

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y.expand_as(x)


class SEBlock(nn.Module):
    """EfficientNet/MobileNetV3-style: SiLU, squeeze-excitation (mul merge) in both spellings, Hardswish,
    GELU, a residual."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 8, stride=2, act=nn.SiLU)
        self.dw = conv_bn(8, 8, 3, act=nn.Hardswish, groups=8)
        self.se = SqueezeExcite(8, 4)
        self.project = nn.Sequential(nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.head = nn.Conv2d(8, 16, 1)
        self.se_classic = ClassicSE(16, 4)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.se(self.dw(x)))
        x = self.se_classic(F.silu(self.head(x)))
        return self.fc(F.gelu(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))


class VGG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(8 * 8 * 8, 16), nn.ReLU(True), nn.Dropout(), nn.Linear(16, 10)
        )

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class MiscOps(nn.Module):
    """The remaining ops: zero padding, pools with padding, Group/InstanceNorm, activations, bilinear resize
    (torch's LocalResponseNorm exports as a 5-D decomposition, refused; ONNX LRN is covered by the
    stored files)."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, dilation=1)
        self.gn = nn.GroupNorm(2, 8)
        self.leaky, self.elu, self.prelu = nn.LeakyReLU(0.1), nn.ELU(0.7), nn.PReLU(8)
        self.avg = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv2 = nn.Conv2d(8, 6, 3, dilation=2, padding=2)
        self.gelu, self.tanh = nn.GELU(approximate="tanh"), nn.Tanh()

    def forward(self, x):
        x = self.prelu(self.elu(self.leaky(self.gn(self.conv1(self.pad(x))))))
        x = self.up(self.inorm(self.avg(x)))
        return self.tanh(self.gelu(self.conv2(x)))


class SmallNet(nn.Sequential):
    """The network of ``small_net.json`` (layer names = module names), for the checkpoint tests."""

    def __init__(self) -> None:
        super().__init__(
            OrderedDict(
                conv=nn.Conv2d(3, 4, 3, padding=1),
                bn=nn.BatchNorm2d(4),
                relu=nn.ReLU(),
                pool=nn.MaxPool2d(2),
                flatten=nn.Flatten(),
                fc=nn.Linear(4 * 8 * 8, 5),
            )
        )


MODELS = {
    "resnet": ResNet,
    "inception": Inception,
    "mobilenet_v2": MobileNetV2,
    "unet": UNet,
    "se_block": SEBlock,
    "vgg": VGG,
    "misc_ops": MiscOps,
}
OTHER_MODELS = {"small_net": SmallNet}


def build(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return _randomise_norms({**MODELS, **OTHER_MODELS}[name]())
