"""Tolerance policy: how close is close enough, per dtype, op and case.

``Tolerance`` says which rule an element is judged by; ``DEFAULT_TOLERANCES`` holds the
defaults per dtype, each with its source; ``resolve_tolerance`` applies an op's and a case's
overrides; ``widen_for_precision`` holds a target that states a reduced precision to that
precision's default. Applying a tolerance to two arrays is the comparator's job
(``conformance/comparator.py``, which documents the rules).

* rule ``"numpy"`` (default; numpy.isclose, torch.testing.assert_close): an element passes
  when ``|a-b| <= atol + rtol * |b|``.
* rule ``"polygraphy"`` (Polygraphy's elementwise check): an element fails only when it
  exceeds BOTH ``|a-b| > atol`` and ``rel > rtol``.
* ``stat`` (``max | mean | median | quantile``): for reduced precision, the verdict on values
  is ``stat(|a-b|) <= stat_atol`` instead of the element-wise rule.
* ``exact``: ``None`` means "by dtype" (integers and bools exact); ``check_dtype=False``
  accepts a float32-vs-float64 mismatch.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

RULES = ("numpy", "polygraphy")
STATS = ("max", "mean", "median", "quantile")
DEFAULT_QUANTILE = 0.99      # Polygraphy's CompareFunc.simple default error_quantile


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-5
    atol: float = 1e-5
    rule: str = "numpy"
    stat: str | None = None          # None: element-wise verdict; else verdict on stat(|a-b|)
    quantile: float | None = None    # for stat == "quantile" (default 0.99)
    stat_atol: float | None = None   # bound on the statistic of the absolute error
    exact: bool | None = None        # None: by dtype (ints and bools exact); True/False force it
    check_dtype: bool = True         # a float32-vs-float64 mismatch fails unless False
    # set by noise_tolerance: the measured float32 noise floor of the output and the multiple
    # of it the atol allows (None: a plain tolerance)
    noise_floor: float | None = None
    noise_multiple: float | None = None

    def __post_init__(self):
        for key in ("rtol", "atol"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"tolerance {key} must be a number >= 0, got {value!r}")
            object.__setattr__(self, key, float(value))
        if self.rule not in RULES:
            raise ValueError(f"unknown tolerance rule {self.rule!r}; expected one of {RULES}")
        if self.stat is not None:
            if self.stat not in STATS:
                raise ValueError(f"unknown tolerance stat {self.stat!r}; expected one of {STATS} or None")
            if self.stat_atol is None or not self.stat_atol >= 0:
                raise ValueError(f"tolerance stat={self.stat!r} needs stat_atol >= 0, got {self.stat_atol!r}")
            object.__setattr__(self, "stat_atol", float(self.stat_atol))
            if self.stat == "quantile":
                q = DEFAULT_QUANTILE if self.quantile is None else self.quantile
                if not 0 <= q <= 1:
                    raise ValueError(f"tolerance quantile must be in [0, 1], got {q!r}")
                object.__setattr__(self, "quantile", float(q))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Tolerance":
        _check_keys(data, "tolerance")
        return cls(**dict(data))

    def describe(self) -> str:
        if self.exact:
            return "exact"
        text = (f"rtol={self.rtol:g}, atol={self.atol:g}, rule {self.rule}: "
                + ("|a-b| <= atol + rtol*|b|" if self.rule == "numpy" else "fails where |a-b| > atol and rel > rtol"))
        if self.stat:
            what = f"q{self.quantile:g}" if self.stat == "quantile" else self.stat
            text += f"; verdict on {what}(|a-b|) <= {self.stat_atol:g}"
        if self.noise_floor is not None:
            text += (f"; atol = max(the dtype's or case's atol, {self.noise_multiple:g} x the float32 noise floor "
                     f"{self.noise_floor:.3g})")
        return text


_FIELDS = {f.name for f in dataclasses.fields(Tolerance)}


def _check_keys(data: Mapping[str, Any], what: str, allowed=_FIELDS) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} key(s) {unknown}; expected some of {sorted(allowed)}")


# Defaults per dtype. The comparison is the converted model on a target against the source
# framework on CPU: two independent kernel implementations (accumulation order, fused ops,
# approximations), so these are the cross-implementation tolerances of the projects that do
# the same job, not bit-exactness.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    # torch.testing.assert_close default for float64: (rtol, atol) = (1e-7, 1e-7)
    # (torch/testing/_comparison.py, _DTYPE_PRECISIONS[torch.float64]).
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
    # atol 1e-5: the default of torch.testing.assert_close for float32, of tf2onnx's
    # run_test_case (tests/backend_test_base.py: rtol=1e-07, atol=1e-5) and of Polygraphy's
    # CompareFunc.simple (_DEFAULT_ATOL = 1e-5). rtol 1e-5: Polygraphy's _DEFAULT_RTOL; torch's
    # 1.3e-6 and tf2onnx's 1e-7 are for comparing a runtime against itself-like kernels, too
    # tight for a reduction of a few thousand terms summed in another order (error ~ sqrt(K)
    # ulp). ONNX's backend runner uses rtol=1e-3, atol=1e-7 (onnx/backend/test/loader), looser
    # on large values and tighter near zero.
    "float32": Tolerance(rtol=1e-5, atol=1e-5),
    # rtol 1e-3: torch.testing.assert_close float16 default (_DTYPE_PRECISIONS[torch.float16],
    # about one float16 ulp, 2**-10). atol 1e-3 instead of torch's 1e-5: PyTorch's own fused
    # kernel tests use atol 1e-3 for float16 (test/test_transformers.py default_atol), since
    # near zero a cancellation leaves an error of the summands' ulp, not the result's.
    "float16": Tolerance(rtol=1e-3, atol=1e-3),
    # rtol 1.6e-2: torch.testing.assert_close bfloat16 default (about two bfloat16 ulps,
    # 2**-7 each); atol 1e-3 as for float16 (test/test_transformers.py default_atol).
    "bfloat16": Tolerance(rtol=1.6e-2, atol=1e-3),
    # Integers and bools: exact, as ONNX's backend runner (assert_equal on dtype, allclose on
    # integers with atol 1e-7 is exact) and torch.testing.assert_close (rtol=atol=0 for ints).
    "int": Tolerance(rtol=0.0, atol=0.0, exact=True),
    "bool": Tolerance(rtol=0.0, atol=0.0, exact=True),
}


def dtype_key(dtype) -> str:
    """The DEFAULT_TOLERANCES key for a dtype (numpy dtype, type, or name such as "bfloat16")."""
    if isinstance(dtype, str):
        name = dtype
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = str(getattr(dtype, "name", dtype))
    if name in DEFAULT_TOLERANCES:
        return name
    if name.startswith("float8") or name.startswith("float4"):
        return "bfloat16"   # no default anywhere for 8-bit floats; the loosest we have
    if name in ("int", "ints"):
        return "int"
    if name in ("complex64",):
        return "float32"
    if name in ("complex128",):
        return "float64"
    try:
        kind = np.dtype(name).kind
    except TypeError:
        raise ValueError(f"no default tolerance for dtype {name!r}; expected one of {sorted(DEFAULT_TOLERANCES)}") from None
    if kind in "iu":
        return "int"
    if kind == "b":
        return "bool"
    if kind == "f":
        return "float64" if np.dtype(name).itemsize >= 8 else "float32"
    raise ValueError(f"no default tolerance for dtype {name!r}; expected one of {sorted(DEFAULT_TOLERANCES)}")


def _apply_override(tol: Tolerance, override: Mapping[str, Any] | None, key: str, what: str) -> Tolerance:
    """Flat keys apply to every dtype; a dtype name mapping to a dict applies to that dtype only
    (``{"atol": 1e-4, "float16": {"atol": 1e-2}}``), after the flat keys."""
    if not override:
        return tol
    flat = {k: v for k, v in override.items() if not isinstance(v, Mapping)}
    nested = {k: v for k, v in override.items() if isinstance(v, Mapping)}
    _check_keys(flat, what)
    bad = sorted(k for k in nested if k not in DEFAULT_TOLERANCES)
    if bad:
        raise ValueError(f"{what}: per-dtype key(s) {bad} are not dtypes; expected some of {sorted(DEFAULT_TOLERANCES)}")
    tol = dataclasses.replace(tol, **flat)
    if key in nested:
        _check_keys(nested[key], f"{what}[{key}]")
        tol = dataclasses.replace(tol, **nested[key])
    return tol


def resolve_tolerance(dtype, op_override: Mapping[str, Any] | None = None,
                      case_override: Mapping[str, Any] | None = None) -> Tolerance:
    """Default for ``dtype``, then the op spec's override, then the case's (case wins)."""
    key = dtype_key(dtype)
    tol = DEFAULT_TOLERANCES[key]
    tol = _apply_override(tol, op_override, key, "op tolerance override")
    return _apply_override(tol, case_override, key, "case tolerance override")


def widen_for_precision(tol: Tolerance, precision: str | None, dtype) -> Tolerance:
    """A target that states it computes in a reduced precision (``bf16``, ``fp16``: OpenVINO's
    CPU default, TensorRT's FP16 flag) is held to that precision's default tolerance for its
    floating outputs. Only ever wider: a case's own tolerance still applies where it is looser."""
    reduced = {"bf16": "bfloat16", "fp16": "float16"}.get((precision or "").split(" ")[0])
    if reduced is None or np.dtype(dtype).kind != "f" or tol.exact:
        return tol
    base = DEFAULT_TOLERANCES[reduced]
    return dataclasses.replace(tol, rtol=max(tol.rtol, base.rtol), atol=max(tol.atol, base.atol))


# ---------------------------------------------------------------- whole models: float32's own noise

# How many times its measured float32 noise floor (conformance.noise_floor: the largest distance
# of a correct float32 engine from the float64 reference on this model and these inputs) a
# whole-model output may be off by. Measured with scripts/false_alarms.py on the six zoo models
# (floors 1.2e-7 for the GRU to 5.7e-5 for ResNet-18): correct float32 engines land at most
# 2.7 x the floor from each other (the reference and onnxruntime checked against the source
# framework, onnxruntime at 1 and default threads and OpenVINO f32: 48 checks, median ~1), while
# every planted bug that moves the exact outputs at all (scripts/planted_bugs.py, 6 kinds) moves
# them 183 x the floor or more (ResNet-50's first conv weight off by 1%; most 1e3-1e6 x).
# 16 is ~6 x the worst correct engine seen: headroom for engines not measured here (other conv
# algorithms, other BLAS) and for a floor sampled from two engines on one input set, and still
# ~11 x under the subtlest bug.
NOISE_MULTIPLE = 16.0


def noise_tolerance(dtype, floor: float | None, multiple: float = NOISE_MULTIPLE) -> Tolerance:
    """A whole model's tolerance for one output: the dtype's default, its atol widened to
    ``multiple`` times the output's measured float32 noise floor where that is larger. The
    absolute floor of the dtype stays (a floor of 0, an exact computation, gives the default);
    single-op cases never come here and keep their tight tolerances."""
    base = resolve_tolerance(dtype)
    if floor is None or base.exact or dtype_key(dtype) != "float32":
        return base
    return dataclasses.replace(base, atol=max(base.atol, multiple * floor), noise_floor=float(floor),
                               noise_multiple=float(multiple))


#: the case kinds judged against their measured float32 noise floor in the runner too
#: (conformance.judge), and how the floor meets the case's own rtol/atol:
#: * ``"replaces"``: whole models (architectures, model files); their hand-set rtol/atol are for
#:   when no floor can be measured, and give way to the measurement;
#: * ``"widens"``: generated graphs (fuzz: a few ops, judged at the campaign's tight tolerance,
#:   suites/fuzz/evaluate.py); the floor only widens atol where a chain of ops on large values
#:   lands a correct float32 engine beyond it, never tightens.
#: Single-op, padding and semantics cases keep their tight tolerances; a generation is judged
#: token by token.
NOISE_FLOOR_KINDS = {"arch": "replaces", "model": "replaces", "fuzz": "widens"}


def case_noise_multiple(kind: str, case_override: Mapping[str, Any] | None, conversion_precision: str = "fp32",
                        has_expected: bool = False) -> float | None:
    """The multiple of its float32 noise floor a runner case is held to, or None when the floor
    does not judge it: a kind that is not a whole model, a case with hand-computed expected
    values (they are exact), a model stored in reduced precision (its error is the rounding of
    its weights: held to that precision's default instead), or a case that turns the floor off
    with ``tolerance={"noise_multiple": 0}`` (its own rtol/atol then judge)."""
    override = case_override or {}
    multiple = override.get("noise_multiple", NOISE_MULTIPLE)
    if kind not in NOISE_FLOOR_KINDS or has_expected or conversion_precision != "fp32" or not multiple:
        return None
    return float(multiple)


def case_tolerance(dtype, case_override: Mapping[str, Any] | None = None, floor: float | None = None,
                   multiple: float | None = None, widens: bool = False) -> Tolerance:
    """A runner case's tolerance for one output. Without a measured ``floor`` (or ``multiple``),
    or for an output that is not float32: the dtype's default and the case's overrides
    (``resolve_tolerance``). With one: the noise tolerance (``noise_tolerance``); the case's own
    rtol/atol, hand-set for when no floor can be measured (an artifact in another format, a
    model the float64 reference cannot run), give way to the measurement, its other keys (rule,
    check_dtype) still apply. ``widens`` (a kind whose floor only widens, NOISE_FLOOR_KINDS):
    the case's own tolerance, its atol raised to ``multiple`` x the floor where that is larger."""
    if floor is None or not multiple or dtype_key(dtype) != "float32":
        return resolve_tolerance(dtype, None, case_override)
    if widens:
        own = resolve_tolerance(dtype, None, case_override)
        if own.exact:
            return own
        return dataclasses.replace(own, atol=max(own.atol, multiple * floor), noise_floor=float(floor),
                                   noise_multiple=float(multiple))
    override = dict(case_override or {})
    override.update(override.pop("float32", None) or {})
    kept = {k: v for k, v in override.items()
            if k not in ("rtol", "atol", "noise_multiple", "noise_floor") and not isinstance(v, Mapping)}
    _check_keys(kept, "case tolerance override")
    tol = noise_tolerance(dtype, floor, multiple)
    return dataclasses.replace(tol, **kept) if kept else tol


# ---------------------------------------------------------------- quantized conversions: metrics

#: metric-level acceptance of a reduced-precision model (an optimizer pass's output, or a
#: converter that quantizes: ``tflite-int8``): every float output's cosine similarity with the
#: source's, and for classifier outputs (batch, classes) the share of rows whose arg-max agrees.
#: Element-wise tolerances mean nothing for an INT8 model: its error is the quantization step.
FP16_TOLERANCE = {"cosine_min": 0.999, "top1_agreement_min": 0.95}
INT8_TOLERANCE = {"cosine_min": 0.97, "top1_agreement_min": 0.80}
#: what each conversion precision is held to: a tolerance widened to a dtype's default
#: (element-wise), or metrics
CONVERSION_PRECISIONS = {"fp32": None, "fp16-weights": "fp16", "int8": INT8_TOLERANCE}

#: a user's quantized source file (a dynamic-range ``.tflite``: int8 weights, and LiteRT's hybrid
#: kernels quantize each activation tensor to int8 at run time) checked against its float ONNX
#: translation: the source's own arithmetic is off the float model by about one activation
#: quantization step (1/127 of the tensor's range). Measured on a Keras CNN (logits ~1):
#: max_abs 4.0e-4, max_rel 4.0e-3; 1e-2 leaves that 2.5x of headroom and is still 20x under a
#: wrong weight or a dropped layer (which move such logits by >= 0.2). Explicit --rtol/--atol win.
QUANTIZED_SOURCE_TOLERANCE = {"int8-dynamic-range": (1e-2, 1e-2)}
