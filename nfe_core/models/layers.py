"""StyleGAN2 building blocks in pure PyTorch, named and shaped as rosinality's stylegan2-pytorch.

Module and parameter names, parameter shapes and the run-time scales (equalised learning
rate) follow rosinality's `model.py`, so that its checkpoints load into our modules and render
the same pixels. No custom CUDA kernels: `upfirdn2d` is padding plus a depthwise convolution,
with the semantics of rosinality's `upfirdn2d_native`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2.0)
# Inference on the CPU runs modulated convolutions with at least this many input channels in
# channels-last layout (measured: faster there, slower with few channels at high resolution).
CHANNELS_LAST_MIN = 64


def make_kernel(taps: Sequence[float]) -> Tensor:
    """1-D taps (k,) -> normalised separable 2-D FIR kernel (k, k) summing to 1."""
    k = torch.tensor(list(taps), dtype=torch.float32)
    k2 = k[None, :] * k[:, None]
    return k2 / k2.sum()


def upfirdn2d(
    x: Tensor, kernel: Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)
) -> Tensor:
    """(N, C, H, W) -> (N, C, (H*up + p0 + p1 - kh) // down + 1, same for W).

    Upsample by zero insertion, pad (negative pads crop), convolve with `kernel` (a true
    convolution: the kernel is flipped) and keep every `down`-th sample; as rosinality's
    `upfirdn2d_native` with the same pad on both axes.
    """
    n, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    weight = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None].expand(c, 1, *kernel.shape)
    if p0 == p1 >= 0:  # the convolution's own zero padding, one op less
        return F.conv2d(x, weight, stride=down, padding=p0, groups=c)
    if p0 > 0 or p1 > 0:
        x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        x = x[:, :, max(-p0, 0) : x.shape[2] - max(-p1, 0), max(-p0, 0) : x.shape[3] - max(-p1, 0)]
    return F.conv2d(x, weight, stride=down, groups=c)


def fused_leaky_relu(
    x: Tensor, bias: Tensor | None, negative_slope: float = 0.2, scale: float = SQRT2
) -> Tensor:
    """(N, C, ...) -> same: leaky_relu(x + bias per channel) * scale."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    return F.leaky_relu(x, negative_slope) * scale


class PixelNorm(nn.Module):
    """(N, D) -> (N, D): each row scaled to unit root-mean-square."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


class FusedLeakyReLU(nn.Module):
    """(N, C, ...) -> same: leaky ReLU (slope 0.2) of x + `bias` (C,), times sqrt(2)."""

    def __init__(
        self, channel: int, bias: bool = True, negative_slope: float = 0.2, scale: float = SQRT2
    ) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channel)) if bias else None
        self.negative_slope = negative_slope
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


class Blur(nn.Module):
    """(N, C, H, W) -> (N, C, H + p0 + p1 - k + 1, ...): FIR filter with buffer `kernel` (k, k)."""

    def __init__(
        self, kernel: Sequence[float], pad: tuple[int, int], upsample_factor: int = 1
    ) -> None:
        super().__init__()
        self.register_buffer("kernel", make_kernel(kernel) * upsample_factor**2)
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """(N, C, H, W) -> (N, C, 2H, 2W): zero insertion and FIR filter with buffer `kernel` (k, k)."""

    def __init__(self, kernel: Sequence[float], factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(kernel) * factor**2)
        p = len(kernel) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        kernel: Tensor = self.kernel
        k = kernel.shape[0]
        if (k - self.factor) % 2:
            return upfirdn2d(x, kernel, up=self.factor, pad=self.pad)
        # Same result in one op: a depthwise transposed convolution is zero insertion, padding
        # by k - 1 - padding and a true convolution with the kernel.
        weight = kernel.to(x.dtype)[None, None].expand(x.shape[1], 1, k, k)
        return F.conv_transpose2d(
            x, weight, stride=self.factor, padding=k - 1 - self.pad[0], groups=x.shape[1]
        )


class EqualLinear(nn.Module):
    """(N, in_dim) -> (N, out_dim); weight (out, in) scaled at run time by lr_mul / sqrt(in)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: str | None = None,
    ) -> None:
        super().__init__()
        if activation not in (None, "fused_lrelu"):
            raise ValueError(f"activation must be None or 'fused_lrelu', got {activation!r}")
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        """x (N, in_dim) -> (N, out_dim), times `gain` (folded into the one matmul)."""
        # gain * (x @ (weight * scale).T + bias * lr_mul) in one addmm; leaky_relu(y) * sqrt(2)
        # == leaky_relu(y * sqrt(2)), so the activation's gain folds in too.
        if self.activation:
            gain *= SQRT2
        if self.bias is None:
            out = F.linear(x, self.weight) * (self.scale * gain)
        elif x.ndim == 2:
            out = torch.addmm(
                self.bias, x, self.weight.t(), beta=self.lr_mul * gain, alpha=self.scale * gain
            )
        else:
            out = F.linear(x, self.weight * (self.scale * gain), self.bias * (self.lr_mul * gain))
        return F.leaky_relu(out, 0.2) if self.activation else out


class EqualConv2d(nn.Module):
    """(N, in, H, W) -> (N, out, H', W'); weight (out, in, k, k) scaled by 1 / sqrt(in * k * k)."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channel, in_channel, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channel)) if bias else None
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.stride = stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(
            x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding
        )


class ModulatedConv2d(nn.Module):
    """(N, in, H, W), style (N, style_dim) -> (N, out, H, W) (2H, 2W upsampling; H/2 down).

    weight (1, out, in, k, k) is modulated per sample by `modulation(style)` (bias init 1) and,
    with `demodulate`, normalised per output channel. Two exact equivalents, as rosinality's
    `fused` switch: the fused path modulates the weights and folds the batch into the groups of
    one convolution; the other scales the activations before and after a plain convolution.
    `fused=None` picks the cheaper per call (fused for batch 1 where weights are the smaller
    tensor). Upsampling: transposed convolution with stride 2, then `blur`.
    """

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        downsample: bool = False,
        blur_kernel: Sequence[int] = (1, 3, 3, 1),
        fused: bool | None = None,
    ) -> None:
        super().__init__()
        if upsample and downsample:
            raise ValueError("a ModulatedConv2d upsamples or downsamples, not both")
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.upsample = upsample
        self.downsample = downsample
        self.demodulate = demodulate
        self.fused = fused
        factor = 2
        if upsample:
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, ((p + 1) // 2 + factor - 1, p // 2 + 1), factor)
        elif downsample:
            p = (len(blur_kernel) - factor) + (kernel_size - 1)
            self.blur = Blur(blur_kernel, ((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(
            torch.randn(1, out_channel, in_channel, kernel_size, kernel_size)
        )
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1.0)
        self._cache: tuple[tuple, Tensor, Tensor] | None = None

    def _weights(self, cached: bool, channels_last: bool) -> tuple[Tensor, Tensor]:
        """weight_sq (out, in): sum over the kernel of weight**2; and the convolution's weight.

        The latter is (out, in, k, k), or (in, out, k, k) for the transposed convolution, in
        channels-last layout if asked. With `cached` (inference mode) both are kept until the
        parameter changes (version, storage, device, dtype); everywhere else they are computed
        afresh, so training and in-place `.data` updates outside inference mode never see
        stale values.
        """
        w = self.weight
        key = (w._version, w.data_ptr(), w.device, w.dtype, channels_last) if cached else ()
        if cached and self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        weight_sq = w[0].square().sum([2, 3])
        conv_weight = w[0].transpose(0, 1) if self.upsample else w[0]
        if channels_last:
            conv_weight = conv_weight.contiguous(memory_format=torch.channels_last)
        if cached:
            self._cache = (key, weight_sq, conv_weight)
        return weight_sq, conv_weight

    def _use_fused(self, x: Tensor) -> bool:
        if self.fused is not None:
            return self.fused
        if x.shape[0] != 1:
            return False
        pixels = x.shape[2] * x.shape[3]
        out_pixels = pixels * 4 if self.upsample else pixels // 4 if self.downsample else pixels
        weights = self.out_channel * self.in_channel * self.kernel_size**2
        return weights <= self.in_channel * pixels + self.out_channel * out_pixels

    def forward(
        self, x: Tensor, style: Tensor, bias: Tensor | None = None, gain: float = 1.0
    ) -> Tensor:
        """x (N, in, H, W), style (N, style_dim) -> gain * conv + bias (out,): (N, out, H', W').

        `bias` and `gain` cost nothing extra: they ride with the convolution or the scaling.
        """
        cached = torch.is_inference_mode_enabled() and not self.weight.is_inference()
        channels_last = cached and x.device.type == "cpu" and self.in_channel >= CHANNELS_LAST_MIN
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        elif cached:
            x = x.contiguous()
        weight_sq, weight = self._weights(cached, channels_last)
        s = self.modulation(style, gain=self.scale)  # (N, in), equalised-lr scale folded in
        if self.demodulate:  # gain / |modulated weight| per output channel, (N, out)
            out_scale = torch.rsqrt((s * s) @ weight_sq.t() + 1e-8)
            out_scale = out_scale * gain if gain != 1 else out_scale
        else:
            out_scale = None
            s = s * gain if gain != 1 else s
        if self.kernel_size == 1 and not (self.upsample or self.downsample):
            return self._pointwise(x, s, out_scale, weight, bias)
        if self._use_fused(x):
            return self._fused(x, s, out_scale, weight, bias)
        x = x * s[:, :, None, None]
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight, stride=2))
        elif self.downsample:
            out = F.conv2d(self.blur(x), weight, stride=2)
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if out_scale is None:
            return out if bias is None else out + bias.view(1, -1, 1, 1)
        if bias is None:
            return out * out_scale[:, :, None, None]
        return torch.addcmul(bias.view(1, -1, 1, 1), out, out_scale[:, :, None, None])

    def _pointwise(
        self, x: Tensor, s: Tensor, out_scale: Tensor | None, weight: Tensor, bias: Tensor | None
    ) -> Tensor:
        """1x1 kernels (ToRGB): one batched matmul of the modulated weights, any layout."""
        n, c, h, w = x.shape
        coef = s[:, None, :] if out_scale is None else s[:, None, :] * out_scale[:, :, None]
        weight = weight[None, :, :, 0, 0] * coef  # (N, out, in)
        pixels = x.reshape(n, c, h * w)  # a view when contiguous, else one copy
        if bias is None:
            out = torch.bmm(weight, pixels)
        else:
            out = torch.baddbmm(bias.view(1, -1, 1), weight, pixels)
        return out.view(n, self.out_channel, h, w)

    def _fused(
        self, x: Tensor, s: Tensor, out_scale: Tensor | None, weight: Tensor, bias: Tensor | None
    ) -> Tensor:
        """Per-sample modulated weights, the batch folded into the convolution's groups."""
        n, c, h, w = x.shape
        k, c_out = self.kernel_size, self.out_channel
        x = x.reshape(1, n * c, h, w)
        if self.upsample:  # weight (in, out, k, k)
            coef = s[:, :, None] if out_scale is None else s[:, :, None] * out_scale[:, None, :]
            weight = (weight[None] * coef[..., None, None]).reshape(n * c, c_out, k, k)
            out = F.conv_transpose2d(x, weight, stride=2, groups=n)
            out = self.blur(out.reshape(n, c_out, *out.shape[2:]))
            return out if bias is None else out + bias.view(1, -1, 1, 1)
        coef = s[:, None, :] if out_scale is None else s[:, None, :] * out_scale[:, :, None]
        weight = (weight[None] * coef[..., None, None]).reshape(n * c_out, c, k, k)
        conv_bias = None if bias is None else bias if n == 1 else bias.repeat(n)
        if self.downsample:
            out = F.conv2d(self.blur(x), weight, conv_bias, stride=2, groups=n)
        else:
            out = F.conv2d(x, weight, conv_bias, padding=self.padding, groups=n)
        return out.reshape(n, c_out, *out.shape[2:])


class NoiseInjection(nn.Module):
    """(N, C, H, W), noise (N or 1, 1, H, W) or None -> (N, C, H, W): x + `weight` (1) * noise."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, noise: Tensor | None = None) -> Tensor:
        if noise is None:
            return x
        return torch.addcmul(x, noise, self.weight)


class ConstantInput(nn.Module):
    """batch size N -> (N, C, size, size): the learnt constant `input` (1, C, size, size)."""

    def __init__(self, channel: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))

    def forward(self, batch: int) -> Tensor:
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    """(N, in, H, W), style (N, style_dim), noise -> (N, out, H, W) or (N, out, 2H, 2W)."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        style_dim: int,
        upsample: bool = False,
        blur_kernel: Sequence[int] = (1, 3, 3, 1),
        demodulate: bool = True,
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_channel,
            out_channel,
            kernel_size,
            style_dim,
            demodulate=demodulate,
            upsample=upsample,
            blur_kernel=blur_kernel,
        )
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x: Tensor, style: Tensor, noise: Tensor | None = None) -> Tensor:
        # rosinality: leaky_relu(conv + noise_weight * noise + bias) * sqrt(2). The gain g > 0
        # commutes with leaky_relu, so g scales the conv's (tiny) coefficients, the bias and
        # the noise weight instead of the activations; the bias rides with the convolution.
        act = self.activate
        g = act.scale
        out = self.conv(x, style, bias=None if act.bias is None else act.bias * g, gain=g)
        if noise is not None:
            out = torch.addcmul(out, noise, self.noise.weight * g)
        return F.leaky_relu(out, act.negative_slope, inplace=True)


class ToRGB(nn.Module):
    """(N, in, H, W), style (N, style_dim), skip (N, 3, H/2, W/2) or None -> (N, 3, H, W)."""

    def __init__(
        self,
        in_channel: int,
        style_dim: int,
        upsample: bool = True,
        blur_kernel: Sequence[int] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.conv(x, style, bias=self.bias.view(3))
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConvLayer(nn.Sequential):
    """(N, in, H, W) -> (N, out, H, W), or (N, out, H/2, W/2) with `downsample` (blur first)."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        downsample: bool = False,
        blur_kernel: Sequence[int] = (1, 3, 3, 1),
        bias: bool = True,
        activate: bool = True,
    ) -> None:
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, ((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(
            EqualConv2d(
                in_channel,
                out_channel,
                kernel_size,
                stride=stride,
                padding=padding,
                bias=bias and not activate,
            )
        )
        if activate:
            layers.append(FusedLeakyReLU(out_channel, bias=bias))
        super().__init__(*layers)

    def forward(self, x: Tensor) -> Tensor:
        layers = list(self)
        act = layers.pop() if isinstance(layers[-1], FusedLeakyReLU) else None
        conv = layers.pop()
        for layer in layers:  # the blur, when downsampling
            x = layer(x)
        if act is None:
            return conv(x)
        # leaky_relu(conv(x) + bias) * sqrt(2) as one convolution with the gain and the bias
        # folded into its (small) weight and bias, then one leaky_relu.
        g = act.scale
        return F.leaky_relu(
            F.conv2d(
                x,
                conv.weight * (conv.scale * g),
                None if act.bias is None else act.bias * g,
                stride=conv.stride,
                padding=conv.padding,
            ),
            act.negative_slope,
        )


class ResBlock(nn.Module):
    """(N, in, H, W) -> (N, out, H/2, W/2): two 3x3 convolutions plus a 1x1 skip, over sqrt(2)."""

    def __init__(
        self, in_channel: int, out_channel: int, blur_kernel: Sequence[int] = (1, 3, 3, 1)
    ) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_channel, in_channel, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channel, out_channel, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(
            in_channel,
            out_channel,
            1,
            downsample=True,
            blur_kernel=blur_kernel,
            activate=False,
            bias=False,
        )

    def forward(self, x: Tensor) -> Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / SQRT2
