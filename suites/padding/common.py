"""The framework-neutral half of the padding and semantics builders: numpy only, no framework
import. Inputs and hand-computed expected values that are the same in every framework live
here once; ``torch_cases`` / ``tf_cases`` / ``paddle_cases`` keep the framework calls and
layouts (and the expected values where the framework's documented rule differs).
"""
from __future__ import annotations

import numpy as np

from conformance.cases import Built
from suites.padding import handcalc as hc


def done(model, inputs, expected, names=None) -> Built:
    """A case whose output shapes and values are asserted against ``expected``."""
    inputs = [np.ascontiguousarray(x) for x in inputs]
    expected = [np.ascontiguousarray(np.asarray(e)) for e in expected]
    return Built(model=model, inputs=inputs, input_names=names or [f"x{i}" for i in range(len(inputs))],
                 expected_shapes=[[tuple(e.shape) for e in expected]], expected=expected)


class FnHolder:
    """``__init__`` of the torch / paddle layers wrapping a function ``fn`` of tensors (listed
    before the framework's base class; the subclass's ``forward`` calls ``self.fn``)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn


def mixed(shape) -> np.ndarray:
    """Small integers of both signs."""
    x = hc.ramp(shape)
    return x - float(np.ceil(x.size / 2))


def conv_weights(weight_shape, out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded small-integer-ish weights and bias of a convolution (exact in float32)."""
    return hc.small_weights(tuple(weight_shape), seed), hc.small_weights((out,), seed + 1)


def resize_matrices(sizes, outs, method: str, coord: str, scales=(None, None), **kw):
    """The (height, width) interpolation matrices of a 2-D resize by one rule."""
    return tuple(hc.resize_matrix(n, o, method, coord, scale=s, **kw) for n, o, s in zip(sizes, outs, scales))


# --------------------------------------------------------------------------------------------- semantics
def resize_input(p) -> tuple[np.ndarray, tuple]:
    """A resize case's (1, 1, H, W) ramp input and its (H, W) = ``p["size"]``."""
    h, w = p["size"]
    return hc.ramp((1, 1, h, w)), (h, w)


def integer_case(p, model, table) -> Built:
    """A div / mod case: signed dividend / divisor pairs in the case's dtype, expected ``table``."""
    dt = np.dtype(p["dtype"])
    return done(model, [np.array(hc.INT_A, dt), np.array(hc.INT_B, dt)], [np.array(table, dt)])


def round_case() -> tuple[np.ndarray, np.ndarray]:
    """Halves and near-halves, rounded half to even."""
    return np.array(hc.ROUND_X, np.float32), np.array(hc.ROUND_HALF_EVEN, np.float32)


def gelu_case(approximate: bool) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(hc.GELU_X, np.float32)
    return x, hc.gelu(x, approximate).astype(np.float32)


def layernorm_case(eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose variance is of the order of the epsilon: the default epsilon shows."""
    x = np.array(hc.NORM_X, np.float32)
    return x, hc.layernorm(x, eps).astype(np.float32)


BATCHNORM_VAR = np.array([1e-5, 4e-6], np.float32)     # running variances of the order of epsilon


def batchnorm_case(eps: float) -> tuple[np.ndarray, np.ndarray]:
    """NCHW input and expected output of a BatchNorm with mean 0, scale 1, bias 0 and the
    running variances ``BATCHNORM_VAR``."""
    x = (hc.ramp((1, 2, 2, 2)) * 1e-3).astype(np.float32)
    y = x.astype(np.float64) / np.sqrt(BATCHNORM_VAR.astype(np.float64) + eps).reshape(1, 2, 1, 1)
    return x, y.astype(np.float32)


def groupnorm_case(eps: float) -> tuple[np.ndarray, np.ndarray]:
    """NCHW input (4 channels, 2 groups) and expected output."""
    x = hc.tiny_ramp((1, 4, 2, 2))
    return x, hc.groupnorm(x, 2, eps).astype(np.float32)


def softmax_case(axis: int) -> tuple[np.ndarray, np.ndarray]:
    x = (hc.ramp((2, 3, 4)) / 4).astype(np.float32)
    return x, hc.softmax(x, axis).astype(np.float32)


def sequence_input() -> np.ndarray:
    """The (batch 1, 4 steps, 2 features) input of the GRU and LSTM gate-order cases."""
    return (hc.ramp((1, 4, 2)) / 4 - 1).astype(np.float32)


SEMANTICS_DATA = {      # case name -> (params, the framework's default epsilon) -> (input, expected), NCHW
    "round": lambda p, eps: round_case(),
    "gelu": lambda p, eps: gelu_case(p["approximate"]),
    "layernorm": lambda p, eps: layernorm_case(eps),
    "batchnorm": lambda p, eps: batchnorm_case(eps),
    "groupnorm": lambda p, eps: groupnorm_case(eps),
    "softmax": lambda p, eps: softmax_case(p["axis"]),
}


def nn_semantics(nn, round_layer, batchnorm, axis_keyword: str, gelu_keywords) -> dict:
    """The semantics models of torch and paddle, whose ``nn`` modules share the layer names:
    ``round_layer()`` (the framework's round as a layer), ``nn.GELU(**gelu_keywords(params))``,
    ``nn.LayerNorm(4)``, ``batchnorm(params, input)``, ``nn.GroupNorm(2, 4)`` and ``nn.Softmax``
    on ``params["axis"]`` given as ``axis_keyword``."""
    return {
        "round": lambda p, x: round_layer(),
        "gelu": lambda p, x: nn.GELU(**gelu_keywords(p)),
        "layernorm": lambda p, x: nn.LayerNorm(4),
        "batchnorm": batchnorm,
        "groupnorm": lambda p, x: nn.GroupNorm(2, 4),
        "softmax": lambda p, x: nn.Softmax(**{axis_keyword: p["axis"]}),
    }


def register_semantics(table, models: dict, eps: float, channels_last=()) -> None:
    """One builder in ``table`` per entry of ``models`` (case name -> ``model(params, input)``)
    over the shared input and expected values of ``SEMANTICS_DATA``; ``eps`` is the framework's
    default epsilon, the cases named in ``channels_last`` are fed and expected NHWC."""
    for name, make in models.items():
        def build(p, seed, name=name, make=make):
            x, y = SEMANTICS_DATA[name](p, eps)
            if name in channels_last:
                x, y = hc.nhwc(x), hc.nhwc(y)
            return done(make(p, x), [x], [y])
        table.register(name)(build)
