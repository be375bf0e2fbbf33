"""A plain-torch U-Net-style encoder-decoder that predicts log-depth.

The encoder is the reusable backbone: its ``state_dict`` is exported alone as ``backbone.pt``.
The network works at half the input resolution inside (a strided stem) and upsamples the
log-depth map bilinearly, which keeps a CPU training step cheap.
"""

from __future__ import annotations

import math
from typing import Any, get_args

import torch
import torch.nn.functional as F
from torch import nn


def _norm(channels: int) -> nn.GroupNorm:
    """GroupNorm: independent of the batch size, so a 2-frame fine-tuning batch trains fine."""
    return nn.GroupNorm(math.gcd(8, channels), channels)


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions with GroupNorm and SiLU; the first may stride."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            _norm(c_out),
            nn.SiLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            _norm(c_out),
            nn.SiLU(inplace=True),
        )


class Encoder(nn.Module):
    """The backbone: ``depth`` levels, each halving the resolution and doubling the width."""

    def __init__(self, width: int = 16, depth: int = 4, in_channels: int = 3) -> None:
        super().__init__()
        self.channels = [width * 2**i for i in range(depth)]
        blocks = [ConvBlock(in_channels, self.channels[0], stride=2)]
        blocks += [ConvBlock(self.channels[i - 1], self.channels[i], stride=2) for i in range(1, depth)]
        self.blocks = nn.ModuleList(blocks)
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.45]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1), persistent=False)

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """RGB in [0, 1], shape (B, 3, H, W) -> features at strides 2, 4, ..., 2**depth.

        Channels after the first three (the parallax input) go in as they are; only RGB is normalised.
        """
        x = (image[:, :3] - self.mean) / self.std
        if image.shape[1] > 3:
            x = torch.cat([x, image[:, 3:]], dim=1)
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


class ParallaxGate(nn.Module):
    """Where to trust the parallax input, per pixel at full resolution: the net's own log depth moves towards the
    input's (shifted to the net's level over the pixels it trusts) by a learned weight in [0, 1].

    The weight reads the image, the input's confidence and mask, its disagreement with the net's map, and the
    decoder's last features; it is zero where the input has no reading and starts near ``sigmoid(trust_start)``
    elsewhere. The input's edges are sharp where it has a reading, and a weight that follows the confidence can jump
    where the half-resolution decoder cannot.
    """

    def __init__(self, feat_channels: int, hidden: int = 8, trust_start: float = 2.0) -> None:
        super().__init__()
        reads = feat_channels + 6  # the features, RGB, confidence, mask, the disagreement
        self.weight = nn.Sequential(
            nn.Conv2d(reads, hidden, 3, padding=1), nn.SiLU(inplace=True), nn.Conv2d(hidden, 1, 3, padding=1)
        )
        nn.init.constant_(self.weight[-1].bias, trust_start)

    def forward(
        self, own: torch.Tensor, parallax: torch.Tensor, feats: torch.Tensor, image: torch.Tensor
    ) -> torch.Tensor:
        """``own`` (B,1,H,W) log depth, ``parallax`` (B,3,H,W) normalised depth, confidence, mask; ``feats`` the
        decoder's last features at any resolution; ``image`` (B,3,H,W) the normalised RGB -> the gated log depth."""
        depth, confidence, mask = parallax[:, 0:1], parallax[:, 1:2], parallax[:, 2:3]
        trust = confidence * (1 - mask)
        level = ((own - depth) * trust).sum((2, 3), keepdim=True) / trust.sum((2, 3), keepdim=True).clamp_min(1e-6)
        shifted = depth + level
        feats = F.interpolate(feats, size=own.shape[-2:], mode="bilinear", align_corners=False)
        logit = self.weight(torch.cat([feats, image, confidence, mask, shifted - own], dim=1))
        weight = torch.sigmoid(logit) * (trust > 0)
        return own + weight * (shifted - own)


class Decoder(nn.Module):
    """Upsample-and-merge decoder over the encoder's skip features.

    By default its map is at stride 2, upsampled bilinearly to ``size``. With ``input_channels`` it has one more
    stage at **stride 1**: the stride-2 map, upsampled, merged with features of the input itself (a skip from the
    image, and the parallax input when the net reads it), so depth edges can follow the pixels. With ``side_outputs``
    every lower stage also predicts its own map (:meth:`forward_all`), for losses at several scales.
    """

    def __init__(
        self,
        channels: list[int],
        out_channels: int = 1,
        input_channels: int = 0,
        side_outputs: bool = False,
        parallax_gate: bool = False,
    ) -> None:
        super().__init__()
        ups = []
        for i in range(len(channels) - 1, 0, -1):
            ups.append(ConvBlock(channels[i] + channels[i - 1], channels[i - 1]))
        self.ups = nn.ModuleList(ups)
        self.full_res = input_channels > 0
        last = channels[0]
        if self.full_res:
            half = max(channels[0] // 2, 4)
            self.stem = nn.Sequential(
                nn.Conv2d(input_channels, half, 3, padding=1, bias=False), _norm(half), nn.SiLU(inplace=True)
            )
            self.full = ConvBlock(channels[0] + half, half)
            last = half
        self.out = nn.Conv2d(last, out_channels, 3, padding=1)
        side_channels = channels[:-1] if self.full_res else channels[1:-1]  # finest first
        heads = [nn.Conv2d(c, out_channels, 3, padding=1) for c in side_channels]
        self.sides = nn.ModuleList(heads) if side_outputs else None
        self.gate = ParallaxGate(last) if parallax_gate else None

    def forward_all(
        self,
        feats: list[torch.Tensor],
        size: tuple[int, int],
        image: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """The map at ``size`` first, then (with ``side_outputs``) the coarser stages' own maps, finest first,
        each at its stage's resolution. A full-resolution or gated decoder needs the ``image`` the net read (at
        ``size``, RGB normalised; a gated one's RGB then the parallax input)."""
        x = feats[-1]
        coarse = []
        for block, skip in zip(self.ups, reversed(feats[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
            coarse.append(x)
        if self.full_res:
            if image is None:
                raise ValueError("a full-resolution decoder needs the input image")
            x = F.interpolate(x, size=image.shape[-2:], mode="bilinear", align_corners=False)
            x = self.full(torch.cat([x, self.stem(image)], dim=1))
        out = self.out(x)
        if out.shape[-2:] != tuple(size):
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        if self.gate is not None:
            if image is None or image.shape[1] < 6:
                raise ValueError("a parallax-gated decoder needs the image and its parallax input")
            out = self.gate(out, image[:, 3:], x, image[:, :3])
        if self.sides is None:
            return [out]
        # coarse[-1] is the stride-2 map: a side output there only when a full-resolution stage follows it
        stages = coarse[::-1] if self.full_res else coarse[-2::-1]
        return [out, *(head(x) for head, x in zip(self.sides, stages, strict=False))]

    def forward(
        self, feats: list[torch.Tensor], size: tuple[int, int], image: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.forward_all(feats, size, image)[0]


class DepthNet(nn.Module):
    """Encoder + depth decoder; ``forward`` returns log-depth (B, 1, H, W).

    ``inputs`` is ``rgb`` (3 channels in) or ``rgb+parallax`` (RGB then the parallax input's channels,
    :data:`mannequin.curation.parallax.CHANNELS`: 6 in).

    ``head`` is ``value`` (the decoder outputs log depth) or ``bins`` (it outputs ``bins`` logits over log depth
    relative to the image's median, :mod:`mannequin.learning.pretext.depth_bins`; ``forward`` decodes their
    expectation and :meth:`spread` is the per-pixel uncertainty). ``log_offset`` is a global log-depth shift;
    fine-tuning calibrates it to the labelled frames before training so that a scale-free pretrained decoder
    starts at metric scale.
    """

    def __init__(
        self,
        width: int = 16,
        depth: int = 4,
        head: str = "value",
        bins: int = 32,
        log_range: float = 2.0,
        bins_sigma: float = 1.0,
        inputs: str = "rgb",
        full_res: bool = False,
        side_outputs: bool = False,
        parallax_gate: bool = False,
    ) -> None:
        from mannequin.learning.pretext.depth_bins import HEAD_KINDS, bin_centres, check_bins

        super().__init__()
        if head not in HEAD_KINDS:
            from mannequin.errors import InputError

            raise InputError("net.head", f"unknown head {head!r} (known: {', '.join(HEAD_KINDS)})", "bad_head")
        self.head, self.bins_sigma = head, bins_sigma
        self.inputs = inputs
        self.encoder = Encoder(width, depth, input_channels(inputs))
        check_bins(bins)  # refused for either head, as params.yaml refuses it
        in_ch = input_channels(inputs) if full_res else 0
        gated = parallax_gate and inputs == "rgb+parallax"  # an rgb net has no input to gate
        if gated and head != "value":
            from mannequin.errors import InputError

            raise InputError("net.parallax_gate", "the parallax gate needs net.head: value", "bad_head")
        out_ch = 1 if head == "value" else bins
        self.decoder = Decoder(self.encoder.channels, out_ch, in_ch, side_outputs, gated)
        self.log_offset = nn.Parameter(torch.zeros(()))
        centres = bin_centres(bins, log_range) if head == "bins" else torch.zeros(0)
        self.register_buffer("centres", centres, persistent=False)

    def decode(self, image: torch.Tensor, feats: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The decoder's raw output: log depth (``value``) or bin logits (``bins``), without the offset."""
        return self.decode_all(image, feats)[0]

    def decode_all(self, image: torch.Tensor, feats: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        """The raw output at the input's size, then the coarser decoder stages' own (``side_outputs``), finest
        first."""
        if feats is None:
            feats = self.encoder(image)
        return self.decoder.forward_all(feats, image.shape[-2:], self._decoder_input(image))

    def _decoder_input(self, image: torch.Tensor) -> torch.Tensor | None:
        """What the full-resolution stage and the gate read: the normalised net input (None without either)."""
        if not (self.decoder.full_res or self.decoder.gate is not None):
            return None
        x = (image[:, :3] - self.encoder.mean) / self.encoder.std
        return torch.cat([x, image[:, 3:]], dim=1) if image.shape[1] > 3 else x

    def log_depth(self, out: torch.Tensor) -> torch.Tensor:
        """Raw decoder output -> log depth (B, 1, H, W), the offset included."""
        if self.head == "bins":
            from mannequin.learning.pretext.depth_bins import expected_log_depth

            out = expected_log_depth(out, self.centres)
        return out + self.log_offset

    def spread(self, out: torch.Tensor) -> torch.Tensor:
        """Raw ``bins`` output -> (B, 1, H, W) standard deviation of log depth (the per-pixel uncertainty)."""
        from mannequin.learning.pretext.depth_bins import log_depth_spread

        if self.head != "bins":
            raise ValueError("a value head has no spread; use net.head: bins")
        return log_depth_spread(out, self.centres)

    def bins_loss(self, out: torch.Tensor, depth: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
        """Soft-target cross-entropy of raw ``bins`` output against ``depth`` (relative to each image's median)."""
        from mannequin.learning.pretext.depth_bins import depth_bins_loss

        return depth_bins_loss(out, depth, self.centres, weight, self.bins_sigma)

    def forward(self, image: torch.Tensor, feats: list[torch.Tensor] | None = None) -> torch.Tensor:
        return self.log_depth(self.decode(image, feats))


def input_channels(inputs: str) -> int:
    """Channels the network reads: 3 for ``rgb``, 3 + the parallax input's for ``rgb+parallax``."""
    from mannequin.config.learning import NetInputs
    from mannequin.curation.parallax import CHANNELS

    known = get_args(NetInputs)
    if inputs not in known:
        from mannequin.errors import InputError

        raise InputError("net.inputs", f"unknown inputs {inputs!r} (known: {', '.join(known)})", "bad_inputs")
    return 3 + (len(CHANNELS) if inputs == "rgb+parallax" else 0)


def net_input(net: DepthNet, batch: dict[str, torch.Tensor], image: torch.Tensor | None = None) -> torch.Tensor:
    """What ``net`` reads from a batch: ``image`` (default ``batch["image"]``), then ``batch["parallax"]`` for an
    ``rgb+parallax`` net (a missing parallax input is an error naming the net's inputs)."""
    image = batch["image"] if image is None else image
    if net.inputs == "rgb":
        return image
    if "parallax" not in batch:
        raise ValueError("an rgb+parallax net needs the batch's parallax input (key 'parallax')")
    return torch.cat([image, batch["parallax"].to(image.dtype)], dim=1)


def build_net(net: Any) -> DepthNet:
    """A :class:`DepthNet` from a ``net`` block (``NetParams`` or its dump, e.g. a model's ``model.json``; a dump
    without ``inputs``, from before the parallax input, is an ``rgb`` net)."""
    get = net.get if isinstance(net, dict) else lambda key, default=None: getattr(net, key, default)
    return DepthNet(
        int(get("width", 16)), int(get("depth", 4)), str(get("head", "value")), int(get("bins", 32)),
        float(get("log_range", 2.0)), float(get("bins_sigma", 1.0)), str(get("inputs", "rgb") or "rgb"),
        bool(get("full_res", False)), bool(get("side_outputs", False)), bool(get("parallax_gate", False)),
    )  # fmt: skip


def load_rgb_backbone(net: DepthNet, state: dict[str, torch.Tensor]) -> list[str]:
    """Load an encoder ``state`` (an ``rgb`` backbone, or one of the same inputs) into ``net.encoder``.

    Where the shapes match, weights load as they are. The first convolution of an ``rgb+parallax`` net reads 6
    channels where the rgb backbone's reads 3: its RGB slice takes the rgb weights and the parallax slice is set to
    **zero**, so the loaded net computes exactly what the rgb backbone computes until training teaches it to use the
    parallax input. Returns the names of the weights loaded that way (sliced).
    """
    own = net.encoder.state_dict()
    sliced = []
    merged = {}
    for key, value in state.items():
        if key not in own:
            raise KeyError(f"backbone weight {key!r} does not belong to this encoder")
        target = own[key]
        if value.shape == target.shape:
            merged[key] = value
        elif value.ndim == 4 and value.shape[0] == target.shape[0] and value.shape[1] < target.shape[1]:
            merged[key] = torch.zeros_like(target)
            merged[key][:, : value.shape[1]] = value
            sliced.append(key)
        else:
            raise ValueError(f"backbone weight {key!r} is {tuple(value.shape)}, the net's is {tuple(target.shape)}")
    net.encoder.load_state_dict(merged)
    return sliced


def backbone_state(net: DepthNet) -> dict[str, torch.Tensor]:
    """The encoder's weights alone, as plain CPU tensors (what ``backbone.pt`` holds)."""
    return {k: v.detach().cpu().clone() for k, v in net.encoder.state_dict().items()}
