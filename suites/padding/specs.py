"""Padding-semantics and framework-semantics cases as data. Imports no framework.

Ids: ``padding/<op>/<framework>/<converter>/opset<N>/<target>/<variant>`` and
``semantics/<op>/...``. The builders (``suites.padding.<framework>_cases:build``) dispatch on
``params["op"]``; the remaining params are that op's arguments. Every builder returns the
expected output shapes and hand-computed expected values (``suites/padding/handcalc.py`` for
the padding rules, literal arrays or closed-form float64 for the semantics group).

Spatial sizes in params are logical NCHW (N, C, *spatial) even for NHWC cases; the builder
transposes. Tolerances are tight on purpose: inputs are small integers, so a padding bug moves
an output by whole units, never by 1e-6.
"""
from __future__ import annotations

from conformance.cases import CaseSpec, dynamic_twin, twin_shapes

TIGHT = {"rtol": 1e-6, "atol": 1e-6}
# transcendental kernels (erf, tanh, exp, sigmoid) differ between float32 libraries by a few ulp:
# 2e-6 relative is ~16 ulp, while an epsilon/approximation mix-up moves the value by >1e-4
ULPS = {"rtol": 2e-6, "atol": 2e-6}
BUILDERS = {"torch": "suites.padding.torch_cases:build",
            "tensorflow": "suites.padding.tf_cases:build",
            "paddle": "suites.padding.paddle_cases:build"}
# The torch-script exporter runs every torch case; the dynamo exporter the subset tagged "dynamo"
# below (its export takes seconds, the suite must stay inside a few minutes on 2 cores).
TORCH_ALL = ("torch-script", "torch-dynamo")


def _spec(kind, framework, name, variant, params, tolerance=None, converters=None, min_opset=None):
    if framework == "torch" and converters is None:
        converters = ("torch-script",)
    return CaseSpec(kind=kind, name=name, op=name, framework=framework, builder=BUILDERS[framework],
                    params=params, variant=variant, tolerance=dict(tolerance or TIGHT),
                    converters=converters, min_opset=min_opset)


def pad_case(framework, name, variant, converters=None, **params):
    params.setdefault("op", name)
    return _spec("padding", framework, name, variant, params, converters=converters)


def sem_case(framework, name, variant, tolerance=None, converters=None, **params):
    params.setdefault("op", name)
    return _spec("semantics", framework, name, variant, params, tolerance=tolerance, converters=converters)


T, TF, PD = "torch", "tensorflow", "paddle"

# --------------------------------------------------------------------------------------------- torch
TORCH_PADDING = [
    # padding='same' (stride 1): total d*(k-1), the odd pad on the right/bottom
    pad_case(T, "conv2d_same", "k2", op="conv", shape=[1, 2, 5, 6], out=3, kernel=[2, 2], padding="same",
             converters=TORCH_ALL),
    pad_case(T, "conv2d_same", "k4", op="conv", shape=[1, 1, 6, 7], out=2, kernel=[4, 4], padding="same"),
    pad_case(T, "conv2d_same", "k2x3", op="conv", shape=[1, 2, 4, 5], out=2, kernel=[2, 3], padding="same"),
    pad_case(T, "conv2d_same", "k2-dil3", op="conv", shape=[1, 1, 7, 6], out=2, kernel=[2, 2], dilation=3,
             padding="same", converters=TORCH_ALL),
    pad_case(T, "conv2d_same", "k4-groups2", op="conv", shape=[1, 2, 5, 5], out=4, kernel=[4, 4], groups=2,
             padding="same"),
    pad_case(T, "conv1d_same", "k4", op="conv", shape=[1, 2, 7], out=2, kernel=[4], padding="same"),
    pad_case(T, "conv1d_same", "k2-dil2", op="conv", shape=[1, 1, 6], out=1, kernel=[2], dilation=2, padding="same",
             converters=TORCH_ALL),
    pad_case(T, "conv3d_same", "k2", op="conv", shape=[1, 1, 3, 4, 5], out=2, kernel=[2, 2, 2], padding="same"),
    # padding_mode: the pad is applied by the module before a VALID conv
    pad_case(T, "conv2d_padding_mode", "reflect-p1", op="conv", shape=[1, 1, 4, 5], out=2, kernel=[3, 3],
             padding=[1, 1], padding_mode="reflect", converters=TORCH_ALL),
    pad_case(T, "conv2d_padding_mode", "replicate-p2x1", op="conv", shape=[1, 1, 4, 5], out=1, kernel=[3, 3],
             padding=[2, 1], padding_mode="replicate"),
    pad_case(T, "conv2d_padding_mode", "circular-p1x2", op="conv", shape=[1, 1, 4, 5], out=1, kernel=[3, 3],
             padding=[1, 2], padding_mode="circular"),
    pad_case(T, "conv2d_padding_mode", "same-k4-reflect", op="conv", shape=[1, 1, 5, 6], out=2, kernel=[4, 4],
             padding="same", padding_mode="reflect"),
    pad_case(T, "conv2d_explicit", "p2x1-stride2", op="conv", shape=[1, 2, 6, 5], out=2, kernel=[3, 3],
             padding=[2, 1], stride=2),
    pad_case(T, "conv2d_explicit", "fpad-asym-stride2", op="conv", shape=[1, 1, 6, 6], out=2, kernel=[3, 3],
             padding=[0, 0], stride=2, pre_pad=[0, 1, 1, 0]),
    # conv-transpose: padding crops, output_padding adds rows at the end
    pad_case(T, "conv_transpose2d", "s2-p1-op1", op="conv_transpose", shape=[1, 2, 3, 4], out=2, kernel=[3, 3],
             stride=2, padding=1, output_padding=1, converters=TORCH_ALL),
    pad_case(T, "conv_transpose2d", "s3-p0-op2", op="conv_transpose", shape=[1, 1, 3, 3], out=1, kernel=[2, 2],
             stride=3, padding=0, output_padding=2),
    pad_case(T, "conv_transpose2d", "s2-p1-op1-dil2", op="conv_transpose", shape=[1, 1, 3, 3], out=1,
             kernel=[3, 3], stride=2, padding=1, output_padding=1, dilation=2),
    pad_case(T, "conv_transpose2d", "k4-s2-p2-op1-groups2", op="conv_transpose", shape=[1, 2, 3, 3], out=2,
             kernel=[4, 4], stride=2, padding=2, output_padding=1, groups=2),
    pad_case(T, "conv_transpose1d", "s2-p1-op1", op="conv_transpose", shape=[1, 1, 4], out=1, kernel=[3],
             stride=2, padding=1, output_padding=1),
    # ceil_mode: a last window that would start in the end padding is dropped
    pad_case(T, "maxpool2d_ceil", "lastwin-in-padding", op="pool", mode="max", shape=[1, 1, 5, 5], kernel=2,
             stride=2, padding=1, ceil_mode=True, negative=True, converters=TORCH_ALL),
    pad_case(T, "maxpool2d_ceil", "partial-window", op="pool", mode="max", shape=[1, 1, 6, 6], kernel=3,
             stride=2, padding=0, ceil_mode=True, negative=True),
    pad_case(T, "maxpool1d_ceil", "lastwin-in-padding", op="pool", mode="max", shape=[1, 2, 7], kernel=2,
             stride=3, padding=1, ceil_mode=True, negative=True),
    pad_case(T, "avgpool2d_ceil", "include-pad-lastwin", op="pool", mode="avg", shape=[1, 1, 5, 5], kernel=2,
             stride=2, padding=1, ceil_mode=True, count_include_pad=True, converters=TORCH_ALL),
    pad_case(T, "avgpool2d_ceil", "include-pad-partial", op="pool", mode="avg", shape=[1, 1, 6, 6], kernel=3,
             stride=2, padding=1, ceil_mode=True, count_include_pad=True),
    pad_case(T, "avgpool2d_ceil", "exclude-pad-partial", op="pool", mode="avg", shape=[1, 1, 6, 6], kernel=3,
             stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    # count_include_pad: torch's default includes the zeros in the divisor
    pad_case(T, "avgpool2d_pad", "include-default", op="pool", mode="avg", shape=[1, 2, 4, 5], kernel=3,
             stride=1, padding=1, converters=TORCH_ALL),
    pad_case(T, "avgpool2d_pad", "exclude", op="pool", mode="avg", shape=[1, 2, 4, 5], kernel=3, stride=1,
             padding=1, count_include_pad=False),
    pad_case(T, "avgpool2d_pad", "include-stride2", op="pool", mode="avg", shape=[1, 1, 5, 6], kernel=3,
             stride=2, padding=1),
    pad_case(T, "avgpool2d_divisor", "override1", op="pool", mode="avg", shape=[1, 1, 4, 4], kernel=2, stride=2,
             padding=1, divisor_override=1, converters=TORCH_ALL),
    # max pooling pads with -inf: all-negative inputs make a 0-pad bug visible
    pad_case(T, "maxpool2d_pad", "p1-negative", op="pool", mode="max", shape=[1, 2, 4, 5], kernel=3, stride=1,
             padding=1, negative=True, converters=TORCH_ALL),
    pad_case(T, "maxpool2d_pad", "s2-p1-negative", op="pool", mode="max", shape=[1, 1, 5, 6], kernel=3,
             stride=2, padding=1, negative=True),
    pad_case(T, "maxpool2d_pad", "dil2-p1-negative", op="pool", mode="max", shape=[1, 1, 6, 6], kernel=2,
             stride=1, padding=1, dilation=2, negative=True),
    # F.pad: pairs from the LAST dim backwards
    pad_case(T, "pad_constant", "fpad4-last-dim-first", op="pad", shape=[1, 2, 3, 4], pads=[1, 2, 0, 3],
             mode="constant", converters=TORCH_ALL),
    pad_case(T, "pad_constant", "fpad6-pads-channels", op="pad", shape=[1, 2, 3, 4], pads=[1, 0, 0, 2, 1, 1],
             mode="constant"),
    pad_case(T, "pad_constant", "value-neg1.5", op="pad", shape=[1, 1, 3, 3], pads=[2, 0, 1, 1], mode="constant",
             value=-1.5),
    pad_case(T, "pad_constant", "fpad2-3d", op="pad", shape=[1, 2, 5], pads=[3, 1], mode="constant"),
    pad_case(T, "pad_reflect", "2d-asym", op="pad", shape=[1, 1, 4, 5], pads=[2, 1, 1, 3], mode="reflect",
             converters=TORCH_ALL),
    pad_case(T, "pad_reflect", "1d", op="pad", shape=[1, 2, 5], pads=[3, 2], mode="reflect"),
    pad_case(T, "pad_replicate", "2d-asym", op="pad", shape=[1, 1, 3, 4], pads=[0, 2, 3, 1], mode="replicate"),
    pad_case(T, "pad_circular", "2d-asym", op="pad", shape=[1, 1, 3, 4], pads=[1, 2, 2, 0], mode="circular",
             converters=TORCH_ALL),
    # negative pads crop
    pad_case(T, "pad_negative", "fpad-crop-and-pad", op="pad", shape=[1, 1, 4, 5], pads=[-1, 2, 1, -2],
             mode="constant", converters=TORCH_ALL),
    pad_case(T, "pad_negative", "zeropad2d-crop", op="pad", shape=[1, 2, 4, 4], pads=[-1, 0, 2, -1],
             mode="constant", module="ZeroPad2d"),
    # adaptive pooling with sizes that do not divide: overlapping windows floor(i*in/out)..ceil((i+1)*in/out)
    pad_case(T, "adaptive_avgpool2d", "5to3", op="adaptive", mode="avg", shape=[1, 2, 5, 5], out_size=[3, 3],
             converters=TORCH_ALL),
    pad_case(T, "adaptive_avgpool2d", "5x7to2x3", op="adaptive", mode="avg", shape=[1, 1, 5, 7], out_size=[2, 3],
             converters=TORCH_ALL),
    pad_case(T, "adaptive_avgpool1d", "10to4", op="adaptive", mode="avg", shape=[1, 2, 10], out_size=[4]),
    pad_case(T, "adaptive_maxpool2d", "7to3", op="adaptive", mode="max", shape=[1, 1, 7, 7], out_size=[3, 3],
             negative=True),
]

# --------------------------------------------------------------------------------------------- tensorflow
TF_PADDING = [
    # 'SAME' with stride > 1: out = ceil(in/s), the odd pad at the END (= ONNX SAME_UPPER)
    pad_case(TF, "conv2d_same", "stride2-even", op="conv", shape=[1, 2, 6, 6], out=2, kernel=[3, 3], stride=2,
             padding="SAME"),
    pad_case(TF, "conv2d_same", "stride2-odd", op="conv", shape=[1, 2, 7, 7], out=2, kernel=[3, 3], stride=2,
             padding="SAME"),
    pad_case(TF, "conv2d_same", "k4-stride2-odd", op="conv", shape=[1, 1, 7, 7], out=2, kernel=[4, 4], stride=2,
             padding="SAME"),
    pad_case(TF, "conv2d_same", "stride3-even", op="conv", shape=[1, 1, 8, 8], out=1, kernel=[3, 3], stride=3,
             padding="SAME"),
    pad_case(TF, "conv2d_same", "stride2-even-h-odd-w", op="conv", shape=[1, 1, 6, 7], out=2, kernel=[3, 3],
             stride=2, padding="SAME"),
    pad_case(TF, "conv2d_same", "keras-stride2-even", op="conv", shape=[1, 2, 6, 6], out=2, kernel=[3, 3],
             stride=2, padding="SAME", keras=True),
    pad_case(TF, "conv2d_dilated_same", "k2-dil3", op="conv", shape=[1, 1, 6, 7], out=2, kernel=[2, 2],
             dilation=3, padding="SAME"),
    pad_case(TF, "conv2d_dilated_same", "k3-dil2-keras", op="conv", shape=[1, 1, 6, 5], out=2, kernel=[3, 3],
             dilation=2, padding="SAME", keras=True),
    # causal: the whole d*(k-1) pad on the left
    pad_case(TF, "conv1d_causal", "k3-dil2-keras", op="conv", shape=[1, 2, 7], out=2, kernel=[3], dilation=2,
             padding="CAUSAL", keras=True),
    pad_case(TF, "depthwise_conv2d_same", "stride2-even", op="depthwise", shape=[1, 2, 6, 6], multiplier=2,
             kernel=[3, 3], stride=2, padding="SAME"),
    pad_case(TF, "conv1d_same", "stride2-even", op="conv", shape=[1, 2, 8], out=2, kernel=[3], stride=2,
             padding="SAME"),
    pad_case(TF, "conv3d_same", "stride2-even", op="conv", shape=[1, 1, 4, 4, 4], out=1, kernel=[3, 3, 3],
             stride=2, padding="SAME"),
    pad_case(TF, "conv2d_explicit", "pairs-stride2", op="conv", shape=[1, 1, 6, 6], out=2, kernel=[3, 3],
             stride=2, padding=[[1, 2], [2, 0]]),
    pad_case(TF, "conv_transpose2d", "keras-same-s2", op="conv_transpose", shape=[1, 2, 3, 4], out=2,
             kernel=[3, 3], stride=2, padding="SAME", keras=True),
    pad_case(TF, "conv_transpose2d", "keras-valid-s2-op1", op="conv_transpose", shape=[1, 1, 3, 3], out=2,
             kernel=[3, 3], stride=2, padding="VALID", output_padding=1, keras=True),
    # tf.nn.conv2d_transpose takes the whole output shape, batch included: no free axis (no twin)
    pad_case(TF, "conv_transpose2d", "same-s2-out7", op="conv_transpose", shape=[1, 1, 4, 4], out=1,
             kernel=[3, 3], stride=2, padding="SAME", output_size=[7, 7],
             free=[]),
    pad_case(TF, "conv_transpose2d", "same-s2-out8", op="conv_transpose", shape=[1, 1, 4, 4], out=1,
             kernel=[3, 3], stride=2, padding="SAME", output_size=[8, 8],
             free=[]),
    pad_case(TF, "maxpool2d_same", "stride2-even-negative", op="pool", mode="max", shape=[1, 2, 6, 6], kernel=3,
             stride=2, padding="SAME", negative=True),
    pad_case(TF, "maxpool2d_same", "stride2-odd-negative", op="pool", mode="max", shape=[1, 1, 7, 5], kernel=2,
             stride=2, padding="SAME", negative=True),
    pad_case(TF, "maxpool2d_same", "k3-s1-negative-keras", op="pool", mode="max", shape=[1, 1, 4, 4], kernel=3,
             stride=1, padding="SAME", negative=True, keras=True),
    # TF 'SAME' average pooling divides by the REAL elements only (count_include_pad off)
    pad_case(TF, "avgpool2d_same", "stride2-even", op="pool", mode="avg", shape=[1, 2, 6, 6], kernel=3,
             stride=2, padding="SAME"),
    pad_case(TF, "avgpool2d_same", "stride2-odd-k2", op="pool", mode="avg", shape=[1, 1, 5, 7], kernel=2,
             stride=2, padding="SAME"),
    pad_case(TF, "avgpool2d_same", "k3-s1-keras", op="pool", mode="avg", shape=[1, 1, 4, 5], kernel=3, stride=1,
             padding="SAME", keras=True),
    pad_case(TF, "avgpool1d_same", "stride2-even", op="pool", mode="avg", shape=[1, 2, 6], kernel=3, stride=2,
             padding="SAME"),
    # tf.pad: one [before, after] pair per dim, in dim order (NHWC here)
    pad_case(TF, "pad_constant", "pairs-nhwc", op="pad", shape=[1, 2, 3, 4], pairs=[[0, 0], [1, 2], [0, 3], [1, 0]],
             mode="CONSTANT"),
    pad_case(TF, "pad_constant", "value-neg1.5", op="pad", shape=[1, 1, 3, 3], pairs=[[0, 0], [2, 0], [1, 1], [0, 0]],
             mode="CONSTANT", value=-1.5),
    pad_case(TF, "pad_reflect", "pairs-nhwc", op="pad", shape=[1, 1, 4, 5], pairs=[[0, 0], [1, 3], [2, 1], [0, 0]],
             mode="REFLECT"),
    pad_case(TF, "pad_symmetric", "pairs-nhwc", op="pad", shape=[1, 1, 4, 5], pairs=[[0, 0], [2, 1], [1, 3], [0, 0]],
             mode="SYMMETRIC"),
    pad_case(TF, "pad_constant", "keras-zeropadding2d", op="pad", shape=[1, 2, 3, 4],
             pairs=[[0, 0], [1, 2], [0, 3], [0, 0]], mode="CONSTANT", keras=True),
    pad_case(TF, "pad_negative", "keras-cropping2d", op="pad", shape=[1, 2, 5, 6],
             pairs=[[0, 0], [-1, 0], [0, -2], [0, 0]], mode="CONSTANT", keras=True),
]

# --------------------------------------------------------------------------------------------- paddle
PADDLE_PADDING = [
    pad_case(PD, "conv2d_same", "stride2-even", op="conv", shape=[1, 2, 6, 6], out=2, kernel=[3, 3], stride=2,
             padding="SAME"),
    pad_case(PD, "conv2d_same", "stride2-odd", op="conv", shape=[1, 1, 7, 7], out=2, kernel=[4, 4], stride=2,
             padding="SAME"),
    pad_case(PD, "conv2d_same", "nhwc-stride2-even", op="conv", shape=[1, 2, 6, 6], out=2, kernel=[3, 3],
             stride=2, padding="SAME", layout="NHWC"),
    pad_case(PD, "conv2d_dilated_same", "k2-dil3", op="conv", shape=[1, 1, 6, 7], out=2, kernel=[2, 2],
             dilation=3, padding="SAME"),
    # paddle pad formats: [top, bottom, left, right] and per-dim pairs
    pad_case(PD, "conv2d_padding_mode", "reflect-p1", op="conv", shape=[1, 1, 4, 5], out=2, kernel=[3, 3],
             padding=1, padding_mode="reflect"),
    pad_case(PD, "conv2d_explicit", "list4", op="conv", shape=[1, 1, 5, 6], out=2, kernel=[3, 3],
             padding=[1, 0, 2, 1]),
    pad_case(PD, "conv2d_explicit", "pairs-nchw", op="conv", shape=[1, 1, 5, 6], out=2, kernel=[3, 3], stride=2,
             padding=[[0, 0], [0, 0], [1, 0], [2, 1]]),
    pad_case(PD, "conv2d_explicit", "pairs-nhwc", op="conv", shape=[1, 2, 5, 6], out=2, kernel=[3, 3], stride=2,
             padding=[[0, 0], [1, 0], [2, 1], [0, 0]], layout="NHWC"),
    pad_case(PD, "conv1d_same", "stride2-even", op="conv", shape=[1, 2, 8], out=2, kernel=[3], stride=2,
             padding="SAME"),
    pad_case(PD, "conv_transpose2d", "s2-p1-op1", op="conv_transpose", shape=[1, 2, 3, 4], out=2, kernel=[3, 3],
             stride=2, padding=1, output_padding=1),
    pad_case(PD, "conv_transpose2d", "same-s2", op="conv_transpose", shape=[1, 1, 3, 4], out=2, kernel=[3, 3],
             stride=2, padding="SAME"),
    pad_case(PD, "conv_transpose2d", "nhwc-s2-p1-op1", op="conv_transpose", shape=[1, 2, 3, 3], out=1,
             kernel=[3, 3], stride=2, padding=1, output_padding=1, layout="NHWC"),
    pad_case(PD, "maxpool2d_same", "stride2-even-negative", op="pool", mode="max", shape=[1, 2, 6, 6], kernel=3,
             stride=2, padding="SAME", negative=True),
    pad_case(PD, "maxpool2d_ceil", "lastwin-in-padding", op="pool", mode="max", shape=[1, 1, 5, 5], kernel=2,
             stride=2, padding=1, ceil_mode=True, negative=True),
    pad_case(PD, "maxpool2d_ceil", "nhwc-partial-window", op="pool", mode="max", shape=[1, 2, 6, 6], kernel=3,
             stride=2, padding=0, ceil_mode=True, negative=True, layout="NHWC"),
    pad_case(PD, "maxpool2d_pad", "p1-negative", op="pool", mode="max", shape=[1, 2, 4, 5], kernel=3, stride=1,
             padding=1, negative=True),
    # paddle's AvgPool2D default is exclusive=True: pads NOT counted (torch's default counts them)
    pad_case(PD, "avgpool2d_pad", "exclusive-default", op="pool", mode="avg", shape=[1, 2, 4, 5], kernel=3,
             stride=1, padding=1),
    pad_case(PD, "avgpool2d_pad", "inclusive", op="pool", mode="avg", shape=[1, 2, 4, 5], kernel=3, stride=1,
             padding=1, exclusive=False),
    pad_case(PD, "avgpool2d_same", "stride2-even", op="pool", mode="avg", shape=[1, 1, 6, 6], kernel=3, stride=2,
             padding="SAME"),
    pad_case(PD, "avgpool2d_ceil", "inclusive-partial", op="pool", mode="avg", shape=[1, 1, 6, 6], kernel=3,
             stride=2, padding=1, ceil_mode=True, exclusive=False),
    pad_case(PD, "avgpool2d_pad", "nhwc-exclusive", op="pool", mode="avg", shape=[1, 2, 4, 4], kernel=2, stride=2,
             padding=1, layout="NHWC"),
    # F.pad: len(pad) == 2*ndim pads from the FIRST dim; len 4 on 4-D is [left, right, top, bottom]
    pad_case(PD, "pad_constant", "list4-last-dims", op="pad", shape=[1, 2, 3, 4], pads=[1, 2, 0, 3],
             mode="constant", value=0.5),
    pad_case(PD, "pad_constant", "full-first-dim-first", op="pad", shape=[1, 2, 3, 4],
             pads=[0, 0, 1, 0, 0, 2, 1, 1], mode="constant"),
    pad_case(PD, "pad_constant", "nhwc-list4", op="pad", shape=[1, 2, 3, 4], pads=[1, 0, 2, 1], mode="constant",
             layout="NHWC", value=-1.5),
    pad_case(PD, "pad_reflect", "2d-asym", op="pad", shape=[1, 1, 4, 5], pads=[2, 1, 1, 3], mode="reflect"),
    pad_case(PD, "pad_replicate", "nhwc-asym", op="pad", shape=[1, 2, 3, 4], pads=[0, 2, 2, 1], mode="replicate",
             layout="NHWC"),
    pad_case(PD, "pad_circular", "2d-asym", op="pad", shape=[1, 1, 3, 4], pads=[1, 2, 2, 0], mode="circular"),
    pad_case(PD, "pad_constant", "pad2d-layer", op="pad", shape=[1, 1, 3, 3], pads=[0, 1, 2, 0], mode="constant",
             module="Pad2D", value=2.5),
    pad_case(PD, "adaptive_avgpool2d", "5to3", op="adaptive", mode="avg", shape=[1, 2, 5, 5], out_size=[3, 3]),
    pad_case(PD, "adaptive_maxpool2d", "7to3", op="adaptive", mode="max", shape=[1, 1, 7, 7], out_size=[3, 3],
             negative=True),
]

PADDING_CASES = TORCH_PADDING + TF_PADDING + PADDLE_PADDING

# --------------------------------------------------------------------------------------------- semantics
# Hand values: suites/padding/handcalc.py (FLOOR_DIV/TRUNC_DIV/PY_MOD/C_FMOD of INT_A by INT_B,
# ROUND_HALF_EVEN of ROUND_X, closed forms in float64 for GELU/norms/softmax/resize/RNNs).

def _sem_all(name, variant, frameworks=(T, TF, PD), **params):
    return [sem_case(fw, name, variant, converters=TORCH_ALL if fw == T else None, **params) for fw in frameworks]


SEMANTICS_CASES = [
    # -- integer division / modulo
    sem_case(T, "int_floor_div", "neg-operands", op="div", rounding="floor", dtype="int32", converters=TORCH_ALL),
    sem_case(T, "int_trunc_div", "neg-operands", op="div", rounding="trunc", dtype="int32"),
    sem_case(T, "float_floor_div", "neg-operands", op="div", rounding="floor", dtype="float32"),
    sem_case(T, "int_mod", "remainder-neg-operands", op="mod", kind="python", dtype="int32", converters=TORCH_ALL),
    sem_case(T, "int_fmod", "fmod-neg-operands", op="mod", kind="c", dtype="int32"),
    sem_case(TF, "int_floor_div", "neg-operands", op="div", rounding="floor", dtype="int32"),
    sem_case(TF, "int_trunc_div", "neg-operands", op="div", rounding="trunc", dtype="int32"),
    sem_case(TF, "float_floor_div", "neg-operands", op="div", rounding="floor", dtype="float32"),
    sem_case(TF, "int_mod", "floormod-neg-operands", op="mod", kind="python", dtype="int32"),
    sem_case(TF, "int_fmod", "truncatemod-neg-operands", op="mod", kind="c", dtype="int32"),
    sem_case(PD, "int_floor_div", "neg-operands", op="div", rounding="floor", dtype="int32"),
    sem_case(PD, "int_mod", "remainder-neg-operands", op="mod", kind="python", dtype="int32"),
    sem_case(PD, "float_floor_div", "neg-operands", op="div", rounding="floor", dtype="float32"),
    # -- rounding
    *_sem_all("round", "half-to-even", op="round"),
    # -- GELU
    *_sem_all("gelu", "exact-erf", op="gelu", approximate=False, tolerance=ULPS),
    *_sem_all("gelu", "tanh-approx", op="gelu", approximate=True, tolerance=ULPS),
    # -- normalization epsilon defaults (inputs with variance ~1e-6 so the epsilon dominates)
    *_sem_all("layernorm_eps", "default", op="layernorm", tolerance=ULPS),
    *_sem_all("batchnorm_eps", "default", op="batchnorm", tolerance=ULPS),
    *_sem_all("groupnorm_eps", "default", op="groupnorm", tolerance=ULPS),
    # -- softmax on a non-last axis (opset < 13 coerces to 2-D: run with --opset 11 and 13+)
    *_sem_all("softmax_axis", "axis1-3d", op="softmax", axis=1, tolerance=ULPS),
    *_sem_all("softmax_axis", "axis0-3d", op="softmax", axis=0, tolerance=ULPS),
    # -- resize: coordinate modes and nearest rounding at non-integer scales
    sem_case(T, "resize_nearest", "scale1.5-floor-asymmetric", op="resize", method="nearest", size=[3, 5],
             scale=[1.5, 1.75], converters=TORCH_ALL),
    sem_case(T, "resize_nearest", "nearest-exact-half-pixel", op="resize", method="nearest-exact", size=[3, 5],
             scale=[1.5, 1.75], converters=TORCH_ALL),
    sem_case(T, "resize_nearest", "downscale0.6-floor-asymmetric", op="resize", method="nearest", size=[5, 7],
             scale=[0.6, 0.6]),
    sem_case(T, "resize_linear", "bilinear-half-pixel", op="resize", method="bilinear", size=[3, 4],
             scale=[1.5, 1.75]),
    sem_case(T, "resize_linear", "bilinear-align-corners", op="resize", method="bilinear", size=[3, 4],
             scale=[1.5, 1.75], align_corners=True, converters=TORCH_ALL),
    sem_case(T, "resize_cubic", "bicubic-a-0.75", op="resize", method="bicubic", size=[3, 4], scale=[1.5, 1.75],
             tolerance=ULPS),
    sem_case(TF, "resize_nearest", "v2-half-pixel", op="resize", method="nearest", size=[3, 5], out=[5, 8]),
    sem_case(TF, "resize_nearest", "v1-asymmetric", op="resize", method="nearest", size=[3, 5], out=[5, 8],
             v1=True),
    sem_case(TF, "resize_nearest", "downscale-v2-half-pixel", op="resize", method="nearest", size=[5, 7], out=[3, 4]),
    sem_case(TF, "resize_linear", "v2-half-pixel", op="resize", method="bilinear", size=[3, 4], out=[5, 7]),
    sem_case(TF, "resize_linear", "v1-align-corners", op="resize", method="bilinear", size=[3, 4], out=[5, 7],
             v1=True, align_corners=True),
    sem_case(TF, "resize_cubic", "v2-keys-a-0.5", op="resize", method="bicubic", size=[3, 4], out=[5, 7],
             tolerance=ULPS),
    sem_case(PD, "resize_nearest", "scale1.5-asymmetric", op="resize", method="nearest", size=[3, 5], out=[5, 8]),
    sem_case(PD, "resize_linear", "align-mode0-half-pixel", op="resize", method="bilinear", size=[3, 4],
             out=[5, 7], align_mode=0),
    sem_case(PD, "resize_linear", "align-mode1-asymmetric", op="resize", method="bilinear", size=[3, 4],
             out=[5, 7], align_mode=1),
    sem_case(PD, "resize_linear", "align-corners", op="resize", method="bilinear", size=[3, 4], out=[5, 7],
             align_corners=True),
    # -- recurrent gate orders and GRU reset-after
    sem_case(T, "gru_gates", "reset-after-rzn", op="gru", tolerance=ULPS, converters=TORCH_ALL),
    sem_case(T, "lstm_gates", "ifgo", op="lstm", tolerance=ULPS, converters=TORCH_ALL),
    sem_case(TF, "gru_gates", "keras-reset-after-zrh", op="gru", reset_after=True, tolerance=ULPS),
    sem_case(TF, "gru_gates", "keras-reset-before-zrh", op="gru", reset_after=False, tolerance=ULPS),
    sem_case(TF, "lstm_gates", "keras-ifco", op="lstm", tolerance=ULPS),
    sem_case(PD, "gru_gates", "reset-after-rzc", op="gru", tolerance=ULPS),
    sem_case(PD, "lstm_gates", "ifco", op="lstm", tolerance=ULPS),
]


def all_cases() -> list[CaseSpec]:
    return PADDING_CASES + SEMANTICS_CASES


def dynamic_twin_of(spec: CaseSpec) -> CaseSpec | None:
    """A padding case's dynamic-shape twin (marker ``dynamic``, variant ``<variant>+dyn``): its
    free axes (``params["free"]``, logical NCHW; default the batch and every spatial axis, where
    the pads, ceil-mode windows and output sizes are computed) declared dynamic, exported at
    the sample's shape (each free axis at least 2) and run there and at an unseen shape. None
    where the case fixes every axis. The semantics cases' inputs are literal tables: no twins."""
    shape = spec.params.get("shape")
    free = spec.params.get("free", [axis for axis in range(len(shape or ())) if axis != 1])
    if spec.kind != "padding" or not shape or not free:
        return None
    export, unseen = twin_shapes(shape, free)
    return dynamic_twin(spec, dict(spec.params, shape=export, unseen_shape=unseen))


def dynamic_twins() -> list[CaseSpec]:
    return [twin for twin in map(dynamic_twin_of, PADDING_CASES) if twin is not None]
