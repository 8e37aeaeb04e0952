"""Per-op forms (see forms.py), for the ops the schema-derived generic form cannot feed: inputs
whose shapes must agree, index/axes/shape inputs, required attributes, older opsets' attribute
forms, subgraphs. An op absent here gets the generic form. ``undefined`` quotes the spec where
it defines no result for a family's corner: those data sets are skipped with that reason."""
from __future__ import annotations

from onnx import TensorProto as TP

from . import graphs as g
from .forms import Axes, AxesAttr, Axis, Const, Data, Form, Index, form

F32 = "float32"
NUMERIC = ("float32", "float16", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
IMAGE = (1, 2, 4, 4)                       # N, C, H, W
INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
BODY_TYPES = ("float32", "float64", "int32", "int64")   # types Add takes at every opset (Loop/Scan bodies)

# spec sentences quoted where data sets are skipped
GATHER_OOB = "Gather: 'It is an error if any of the index values are out of bounds.'"
ELEMENTS_OOB = "'All index values are expected to be within bounds [-s, s-1] ... It is an error if any of the index values are out of bounds.'"
SCATTER_DUP = "'If there are duplicate entries in indices, the order in which the updates are applied is undefined' (reduction='none')"
CAST_NAN = "Cast: 'Casting from floating point to: ... fixed point: undefined if OOR (out of range)' (NaN/Inf included)"
STRINGS = ("string outputs: conformance.tolerance.dtype_key has no rule for dtype object, so the one comparator "
           "cannot judge them (reported, not worked around)")
QUANT_NAN = "quantizing NaN/Inf: the spec's saturate/round rules are for finite values; NaN has no integer image"
RANDOM = "the spec fixes the distribution, not the generator: values of two implementations need not agree"


def _axis(v=1, rank=3):
    return Axis(v, rank)


EMPTY_MEAN = "ReduceMean: 'Reduction over an empty set of values yields undefined.'"


def _reduce(op_moved_axes_at: int, empty_undefined: str = "") -> tuple[Form, ...]:
    """A reduction: all axes (the generic form), axes as an attribute before ``op_moved_axes_at``
    and as an input from then on (negative and empty axes)."""
    return (Form(undefined={"empty": empty_undefined} if empty_undefined else {}),
            Form(name="axis1", attrs={"axes": AxesAttr((1,), 3)}, until=op_moved_axes_at, only=("dtype", "neg_axis", "nan_inf", "empty")),
            form(Data(), Axes((1,), 3, empty_ok=True), name="axis1", since=op_moved_axes_at,
                 only=("dtype", "neg_axis", "empty_axes", "nan_inf", "empty")),
            form(Data(), Axes((), 3, empty_ok=True), name="noop", attrs={"noop_with_empty_axes": 1},
                 since=op_moved_axes_at, only=("empty_axes",)))


def _pool(op: str) -> tuple[Form, ...]:
    return (form(Data(IMAGE), attrs={"kernel_shape": [2, 2]}),
            form(Data(IMAGE), name="pad_stride", attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2]},
                 only=("dtype", "nan_inf")),
            form(Data(IMAGE), name="ceil", attrs={"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
                 since=10, only=("dtype", "nan_inf")))


def _window() -> tuple[Form, ...]:
    return tuple(form(Const(size), name=name, attrs=attrs, only=("dtype",), dtypes=("int64", "int32"), primary="T1")
                 for name, size, attrs in (("periodic", 8, {}), ("symmetric", 8, {"periodic": 0}),
                                           ("size1", 1, {}), ("double", 5, {"output_datatype": TP.DOUBLE})))


def _cast(to_name: str, to: int, **kw) -> Form:
    return Form(name=f"to_{to_name}", attrs={"to": to}, **kw)


def _rnn(gates: int) -> tuple[Form, ...]:
    hidden = 3
    w, r = Data((1, gates * hidden, 4), plain=True), Data((1, gates * hidden, hidden), plain=True)
    # no ``empty`` (seq_length 0): onnxruntime 1.32 aborts the whole process on it ("terminate
    # called without an active exception"), which would take a pytest worker down; see the report
    return (form(Data((2, 2, 4)), w, r, attrs={"hidden_size": hidden}, outputs=2, skip=("empty",)),
            form(Data((2, 2, 4)), Data((2, gates * hidden, 4), plain=True), Data((2, gates * hidden, hidden), plain=True),
                 name="bidirectional", attrs={"hidden_size": hidden, "direction": "bidirectional"}, outputs=2,
                 only=("dtype",)))


def _scatter_elements(op: str) -> tuple[Form, ...]:
    base = (Data((3, 4)), Index((2, 4), 3), Data((2, 4)))
    return (form(*base, attrs={"axis": _axis(0, 2)}, undefined={"dup_index": SCATTER_DUP}, skip=("empty",)),
            form(*base, name="add", attrs={"axis": _axis(0, 2), "reduction": "add"}, since=16,
                 only=("dtype", "dup_index", "nan_inf")),
            form(*base, name="max", attrs={"axis": _axis(0, 2), "reduction": "max"}, since=18,
                 only=("dtype", "dup_index", "nan_inf")))


def _slice_inputs(starts, ends, axes=None, steps=None, **kw) -> Form:
    roles = [Data((4, 5, 6)), Const(starts), Const(ends)]
    roles += [Const(axes) if axes is not None else None] + ([Const(steps)] if steps is not None else [])
    return form(*roles, since=10, **kw)


_SLICE = (
    Form(shape=(4, 5, 6), attrs={"starts": [1, -4], "ends": [3, 100], "axes": [0, 2]}, until=10),
    _slice_inputs([1, -4], [3, 100], [0, 2]),
    _slice_inputs([-1, 0], [-100, 5], [0, 1], [-1, 2], name="neg_steps", only=("dtype", "nan_inf")),
    _slice_inputs([3], [1], [1], name="empty_range", only=("dtype",)),
    _slice_inputs([0, 1], [2, 4], None, name="no_axes", only=("dtype",)),
)

_PAD = (
    Form(attrs={"pads": [0, 1, 1, 0, 1, 0]}, until=11),
    Form(name="edge", attrs={"pads": [0, 1, 1, 0, 1, 0], "mode": "edge"}, until=11, only=("dtype",)),
    form(Data(), Const([0, 1, 1, 0, 1, 0]), since=11),
    form(Data(), Const([0, 1, 1, 0, 1, 0]), Const(7, dtype=None), name="value", since=11, only=("dtype", "nan_inf")),
    form(Data(), Const([0, 1, -1, 0, 1, 0]), name="negative", since=11, only=("dtype",)),
    form(Data(), Const([0, 2, 1, 0, 1, 0]), name="reflect", attrs={"mode": "reflect"}, since=11, only=("dtype", "nan_inf")),
    form(Data(), Const([0, 1, 1, 0, 1, 0]), name="edge", attrs={"mode": "edge"}, since=11, only=("dtype",)),
    form(Data(), Const([1, 1]), None, Const([1]), name="axes", since=18, only=("dtype", "neg_axis")),
    form(Data(), Const([0, 4, 1, 0, 5, 0]), name="wrap", attrs={"mode": "wrap"}, since=19, only=("dtype",)),
)

_RESIZE_X = Data((1, 1, 2, 3))
# Resize-11 requires roi (optional only from 13): an empty one, which every mode but
# tf_crop_and_resize ignores, keeps the forms valid at 11 and 13+ alike. With sizes, scales is an
# empty tensor at 11 and must be absent ("") from 13 on
_NO_ROI = Const([], F32)
_RESIZE = (
    form(_RESIZE_X, Const([1, 1, 2.0, 1.5], F32), attrs={"mode": "nearest"}, until=11, only=("dtype", "half_ties", "nan_inf")),
    form(_RESIZE_X, _NO_ROI, Const([1, 1, 2.0, 1.5], F32), name="nearest", attrs={"mode": "nearest"}, since=11),
    form(_RESIZE_X, _NO_ROI, Const([], F32), Const([1, 1, 3, 5]), name="sizes_half_pixel",
         attrs={"mode": "nearest", "nearest_mode": "round_prefer_ceil"}, since=11, until=13, only=("dtype", "half_ties")),
    form(_RESIZE_X, _NO_ROI, None, Const([1, 1, 3, 5]), name="sizes_half_pixel",
         attrs={"mode": "nearest", "nearest_mode": "round_prefer_ceil"}, since=13, only=("dtype", "half_ties")),
    form(_RESIZE_X, _NO_ROI, Const([1, 1, 2.5, 2.5], F32), name="linear_align",
         attrs={"mode": "linear", "coordinate_transformation_mode": "align_corners"}, since=11,
         only=("dtype", "nan_inf", "half_ties")),
    form(_RESIZE_X, _NO_ROI, Const([1, 1, 1.5, 1.5], F32), name="cubic", attrs={"mode": "cubic"}, since=11,
         only=("dtype",)),
    form(_RESIZE_X, _NO_ROI, Const([1, 1, 0.5, 0.5], F32), name="down_floor",
         attrs={"mode": "nearest", "nearest_mode": "floor", "coordinate_transformation_mode": "asymmetric"},
         since=11, only=("dtype", "half_ties")),
)

_CAST = (
    _cast("float32", TP.FLOAT),
    _cast("float16", TP.FLOAT16, only=("dtype", "large", "tiny", "nan_inf")),
    _cast("float64", TP.DOUBLE, only=("dtype", "nan_inf")),
    _cast("int32", TP.INT32, only=("dtype", "int_extremes", "half_ties", "nan_inf", "large"),
          undefined={"nan_inf": CAST_NAN, "large": CAST_NAN}),
    _cast("uint8", TP.UINT8, only=("dtype", "int_extremes", "nan_inf"), undefined={"nan_inf": CAST_NAN}),
    _cast("int64", TP.INT64, only=("int_extremes", "neg_int")),
    _cast("bool", TP.BOOL, only=("dtype", "nan_inf", "zeros")),
    _cast("string", TP.STRING, only=("dtype",), dtypes=("float32", "int64", "bool"), since=9, unjudged=STRINGS),
)

_QUANT_SCALE = Const(0.05, F32)
_BRANCHES = {"then_branch": g.branch((2, 3), "then"), "else_branch": g.branch((2, 3), "else")}
_QZ = Const(3, None)                       # a zero point of the data set's dtype
_BOX = Const([[0, 0, 0, 3, 3], [0, 1, 1, 3, 2]], None)

OVERRIDES: dict[str, tuple[Form, ...]] = {
    # --- reductions and arg reductions: reduce axis 1 so the empty axis 0 stays ---------------
    "ArgMax": (form(Data(), attrs={"axis": _axis(1)}),
               form(Data(), name="last", attrs={"axis": _axis(2), "select_last_index": 1}, since=12,
                    only=("dtype", "nan_inf", "zeros"))),
    "ArgMin": (form(Data(), attrs={"axis": _axis(1)}),
               form(Data(), name="last", attrs={"axis": _axis(2), "select_last_index": 1}, since=12,
                    only=("dtype", "nan_inf", "zeros"))),
    "ReduceSum": _reduce(13),
    **{op: _reduce(18) for op in ("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
                                  "ReduceMin", "ReduceProd", "ReduceSumSquare")},
    "ReduceMean": _reduce(18, EMPTY_MEAN),
    "Softmax": (Form(), Form(name="axis", attrs={"axis": _axis(1)}, only=("neg_axis", "all_neg_inf"))),
    "LogSoftmax": (Form(), Form(name="axis", attrs={"axis": _axis(1)}, only=("neg_axis", "all_neg_inf"))),
    "Hardmax": (Form(), Form(name="axis", attrs={"axis": _axis(1)}, only=("neg_axis", "nan_inf"))),
    "CumSum": (form(Data(), Const(1)),
               form(Data(), Const(-1), name="exclusive_reverse", attrs={"exclusive": 1, "reverse": 1},
                    only=("dtype", "nan_inf", "int_extremes"))),
    "CumProd": (form(Data(), Const(1)),
                form(Data(), Const(-1), name="exclusive_reverse", attrs={"exclusive": 1, "reverse": 1},
                     only=("dtype", "nan_inf", "int_extremes"))),
    **{op: (Form(), form(Data((2, 3, 4)), Data((4,)), name="broadcast", only=("dtype",)))
       for op in ("And", "Or", "Xor")},
    "Concat": (form(Data(), Data(), attrs={"axis": _axis(1)}),),
    "Split": (Form(attrs={"axis": _axis(1)}, until=13, outputs=3),
              form(Data(), Const([1, 2]), attrs={"axis": _axis(1)}, since=13, outputs=2),
              form(Data(), name="uneven", attrs={"axis": _axis(1), "num_outputs": 2}, since=18, outputs=2,
                   only=("dtype", "neg_axis"))),
    "SplitToSequence": (form(Data(), Const([1, 2]), attrs={"axis": _axis(1)},
                             tail=(("ConcatFromSequence", {"axis": 1}),)),
                        form(Data(), name="keepdims0", attrs={"axis": _axis(2), "keepdims": 0},
                             tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),), only=("dtype", "neg_axis"))),
    "TopK": (form(Data(), attrs={"k": 2, "axis": _axis(2)}, until=10, outputs=2),
             form(Data(), Const([2]), attrs={"axis": _axis(2)}, since=10, outputs=2),
             form(Data(), Const([3]), name="smallest_unsorted", attrs={"axis": _axis(1), "largest": 0}, since=11,
                  outputs=2, only=("dtype", "nan_inf", "zeros"))),
    "Compress": (form(Data((3, 4)), Data((3,), dtype="bool"), attrs={"axis": _axis(0, 2)}, skip=("empty",)),
                 form(Data((3, 4)), Data((5,), dtype="bool"), name="flat", only=("dtype",))),
    # --- arithmetic needing agreeing values -------------------------------------------------
    "Div": (Form(fixup="nonzero_divisor"),),
    # fmod=0 on floats is an invalid model: 'If the input type is floating point, then fmod attribute must be set to 1.'
    "Mod": (Form(fixup="nonzero_divisor", dtypes=INTEGERS), Form(name="fmod", attrs={"fmod": 1}, fixup="nonzero_divisor",
                                                only=("dtype", "neg_int", "nan_inf", "int_extremes"))),
    "Pow": (Form(fixup="nonneg_exponent"),),
    "BitShift": (Form(attrs={"direction": "LEFT"}, fixup="small_shift"),
                 Form(name="right", attrs={"direction": "RIGHT"}, fixup="small_shift")),
    "Clip": (Form(attrs={"min": -1.0, "max": 1.5}, until=11),
             form(Data(), Const(1, None), Const(4, None), since=11),
             form(Data(), None, Const(0, None), name="max_only", since=11, only=("dtype", "nan_inf"))),
    "Einsum": (form(Data((2, 3)), Data((3, 4)), attrs={"equation": "ij,jk->ik"}),
               form(Data((2, 3, 4)), name="trace_sum", shape=(3, 3), attrs={"equation": "bij->bj"}, only=("dtype",)),
               form(Data((3, 3)), name="diag", attrs={"equation": "ii->i"}, only=("dtype", "nan_inf"))),
    "MatMul": (form(Data((2, 3, 4)), Data((1, 4, 5))),
               form(Data((4,)), Data((2, 4, 3)), name="vector", only=("dtype", "nan_inf"))),
    "MatMulInteger": (form(Data((3, 4)), Data((4, 5))),
                      form(Data((3, 4)), Data((4, 5)), Const(3, None), name="zero_point", only=("dtype", "int_extremes"))),
    "Gemm": (form(Data((3, 4)), Data((4, 5)), Data((5,)), since=7),
             form(Data((4, 3)), Data((5, 4)), name="trans", attrs={"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0},
                  since=11, only=("dtype", "nan_inf"))),
    "Det": (form(Data((2, 3, 3))),),
    # --- shapes and layout -------------------------------------------------------------------
    "Reshape": (form(Data(), Const([3, -1])),
                form(Data(), Const([0, 12]), name="copy_dim", only=("dtype", "empty")),
                form(Data((0, 3)), Const([3, 0]), name="allowzero", attrs={"allowzero": 1}, since=14, only=("dtype",))),
    "Expand": (form(Data((3, 1)), Const([2, 3, 4]), skip=("empty",)), form(Data((3, 1)), Const([1]), name="smaller", only=("dtype",))),
    "Tile": (form(Data(), Const([1, 2, 1])), form(Data(), Const([0, 1, 1]), name="zero_repeat", only=("dtype",))),
    "ConstantOfShape": (form(Const([2, 3]), attrs={"value": g.scalar_tensor_of()}, dtypes=NUMERIC + ("bool",)),
                        form(Const([0, 3]), name="empty_shape", attrs={"value": g.scalar_tensor_of()}, only=("dtype",)),
                        form(Const([2]), name="default", only=("dtype",), dtypes=("float32",))),
    "Constant": (Form(attrs={"value": g.tensor_of((2, 3))}, primary="T"),
                 Form(name="value_float", attrs={"value_float": 2.5}, since=12, only=("dtype",), dtypes=(F32,)),
                 Form(name="value_ints", attrs={"value_ints": [1, -2, 3]}, since=12, only=("dtype",), dtypes=(F32,))),
    "Unsqueeze": (Form(attrs={"axes": AxesAttr((0, 3), 4)}, until=13),
                  form(Data(), Axes((0, 3), 4), since=13)),
    "Squeeze": (Form(shape=(2, 1, 4), attrs={"axes": AxesAttr((1,), 3)}, until=13),
                form(Data((2, 1, 4)), Axes((1,), 3), since=13),
                Form(name="all_ones", shape=(1, 3, 1), only=("dtype", "nan_inf"))),
    "Flatten": (Form(), Form(name="axis", attrs={"axis": _axis(2)}, only=("dtype", "neg_axis", "empty"))),
    "Transpose": (Form(), Form(name="perm", attrs={"perm": [1, 2, 0]}, only=("dtype", "empty"))),
    "DepthToSpace": (form(Data((1, 4, 2, 3)), attrs={"blocksize": 2}),
                     form(Data((1, 4, 2, 3)), name="crd", attrs={"blocksize": 2, "mode": "CRD"}, since=11, only=("dtype",))),
    "SpaceToDepth": (form(Data((1, 2, 4, 6)), attrs={"blocksize": 2}),),
    "CenterCropPad": (form(Data((4, 5)), Const([3, 6])),
                      form(Data((4, 5, 2)), Const([2, 7]), name="axes", attrs={"axes": AxesAttr((0, 1), 3)},
                           only=("dtype", "neg_axis"))),
    "Col2Im": (form(Data((1, 4, 6)), Const([3, 4]), Const([2, 2])),
               form(Data((1, 4, 9)), Const([3, 3]), Const([2, 2]), name="pad", attrs={"pads": [1, 1, 0, 0]},
                    only=("dtype",))),
    "ReverseSequence": (form(Data((4, 2, 3)), Const([2, 4]), attrs={"time_axis": 0, "batch_axis": 1}, skip=("empty",)),
                        form(Data((2, 4, 3)), Const([1, 3]), name="batch_major", attrs={"time_axis": 1, "batch_axis": 0},
                             only=("dtype",))),
    "Slice": _SLICE,
    "Pad": _PAD,
    "Resize": _RESIZE,
    "Upsample": (form(Data((1, 1, 2, 3)), attrs={"scales": [1.0, 1.0, 2.0, 1.5], "mode": "nearest"}, until=9),
                 form(Data((1, 1, 2, 3)), Const([1, 1, 2.0, 2.0], F32), attrs={"mode": "nearest"}, since=9),
                 form(Data((1, 1, 2, 3)), Const([1, 1, 2.0, 2.0], F32), name="linear", attrs={"mode": "linear"},
                      since=9, only=("dtype", "nan_inf"))),
    "Range": (form(Const(0, None), Const(10, None), Const(3, None), only=("dtype",)),
              form(Const(10, None), Const(-3, None), Const(-2, None), name="down", only=("dtype",)),
              form(Const(5, None), Const(5, None), Const(1, None), name="empty", only=("dtype",))),
    "OneHot": (form(Index((3,), 5), Const(5), Data((2,)), attrs={"axis": _axis(-1, 2)}, primary="T3",
                    extra=("oob_index",), skip=("empty",)),
               form(Index((2, 3), 4), Const(4), Data((2,)), name="axis0", attrs={"axis": _axis(0, 3)}, primary="T3",
                    only=("dtype", "neg_axis"))),
    "EyeLike": (Form(shape=(3, 4)), Form(name="k", shape=(3, 4), attrs={"k": -1}, only=("dtype",)),
                Form(name="k_past", shape=(3, 4), attrs={"k": 5}, only=("dtype",))),
    "Trilu": (form(Data((3, 4))), form(Data((3, 4)), Const(-1), name="lower_k", attrs={"upper": 0}, only=("dtype", "nan_inf"))),
    "Shape": (Form(), Form(name="slice", attrs={"start": -2, "end": 10}, since=15, only=("dtype", "empty"))),
    # --- indexing ----------------------------------------------------------------------------
    "Gather": (form(Data((3, 4)), Index((2,), 3), attrs={"axis": _axis(0, 2)}, undefined={"oob_index": GATHER_OOB}),
               form(Data((3, 4)), Index((2, 2), 4), name="axis1", attrs={"axis": _axis(1, 2)},
                    only=("dtype", "neg_index", "dup_index"))),
    "GatherElements": (form(Data((3, 4)), Index((3, 2), 4), attrs={"axis": _axis(1, 2)},
                            undefined={"oob_index": ELEMENTS_OOB}),),
    "GatherND": (form(Data((3, 4)), Index((2, 1), 3), undefined={"oob_index": ELEMENTS_OOB}),
                 form(Data((2, 3, 4)), Index((2, 1), 3), name="batch", attrs={"batch_dims": 1}, since=12,
                      only=("dtype", "neg_index"))),
    "ScatterElements": _scatter_elements("ScatterElements"),
    "Scatter": (form(Data((3, 4)), Index((2, 4), 3), Data((2, 4)), attrs={"axis": _axis(0, 2)},
                     undefined={"dup_index": SCATTER_DUP}, skip=("empty",)),),
    "ScatterND": (form(Data((3, 4)), Index((2, 1), 3), Data((2, 4)), undefined={"dup_index": SCATTER_DUP},
                       skip=("empty",)),
                  form(Data((3, 4)), Index((2, 1), 3), Data((2, 4)), name="add", attrs={"reduction": "add"}, since=16,
                       only=("dtype", "dup_index", "nan_inf")),
                  form(Data((3, 4)), Index((2, 1), 3), Data((2, 4)), name="min", attrs={"reduction": "min"}, since=18,
                       only=("dtype", "dup_index", "nan_inf"))),
    "TensorScatter": (form(Data((2, 2, 5, 3)), Data((2, 2, 1, 3)), Const([1, 4]), only=("dtype", "nan_inf", "int_extremes")),
                      form(Data((2, 2, 5, 3)), Data((2, 2, 2, 3)), Const([0, 4]), name="circular",
                           attrs={"mode": "circular"}, only=("dtype",))),
    "ArrayFeatureExtractor": (form(Data((3, 4)), Index((2,), 4)),),
    "NonZero": (Form(),),
    "Unique": (form(Data((8,)), outputs=4, attrs={"sorted": 1}),
               form(Data((3, 4)), name="axis", attrs={"axis": _axis(0, 2)}, outputs=4, only=("dtype", "neg_axis"))),
    # --- type changes ------------------------------------------------------------------------
    "Cast": _CAST,
    "CastLike": (form(Data(), Data((1,), dtype="float32", plain=True), name="to_float32"),
                 form(Data(), Data((1,), dtype="int32", plain=True), name="to_int32", only=("dtype", "int_extremes")),
                 form(Data(), Data((1,), dtype="bool", plain=True), name="to_bool", only=("dtype", "zeros"))),
    "BitCast": (Form(attrs={"to": g.same_width_type()}, dtypes=NUMERIC + ("bool",)),),
    # --- neural-network layers ---------------------------------------------------------------
    "Conv": (form(Data(IMAGE), Data((3, 2, 2, 2), plain=True)),
             form(Data(IMAGE), Data((4, 1, 3, 3), plain=True), Data((4,), plain=True), name="group_pad",
                  attrs={"group": 2, "pads": [1, 1, 1, 1], "strides": [2, 1]}, only=("dtype", "nan_inf")),
             form(Data(IMAGE), Data((2, 2, 3, 3), plain=True), name="same_dilated",
                  attrs={"auto_pad": "SAME_UPPER", "dilations": [2, 1]}, only=("dtype",))),
    "ConvTranspose": (form(Data(IMAGE), Data((2, 3, 2, 2), plain=True)),
                      form(Data(IMAGE), Data((2, 3, 3, 3), plain=True), name="stride_outpad",
                           attrs={"strides": [2, 2], "output_padding": [1, 0], "pads": [1, 1, 1, 1]},
                           only=("dtype", "nan_inf"))),
    "ConvInteger": (form(Data((1, 2, 4, 4)), Data((3, 2, 2, 2)), dtypes=("uint8", "int8")),),
    # empty batch left out: the offsets input would need an empty batch too
    "DeformConv": (form(Data(IMAGE), Data((2, 2, 2, 2), plain=True), Data((1, 8, 3, 3), plain=True), skip=("empty",)),),
    "QLinearConv": (form(Data((1, 2, 4, 4)), _QUANT_SCALE, _QZ, Data((3, 2, 2, 2)), _QUANT_SCALE, _QZ,
                         Const(0.1, F32), _QZ, dtypes=("uint8", "int8"), only=("dtype", "int_extremes", "zeros")),),
    "QLinearMatMul": (form(Data((3, 4)), _QUANT_SCALE, _QZ, Data((4, 5)), _QUANT_SCALE, _QZ, Const(0.1, F32), _QZ,
                           dtypes=("uint8", "int8"), only=("dtype", "int_extremes", "zeros")),),
    "QuantizeLinear": (form(Data(), Const(0.25, F32), Const(10, "uint8"), dtypes=(F32,)),
                       form(Data(), Const(0.25, F32), Const(-3, "int8"), name="int8", dtypes=(F32,),
                            only=("dtype", "half_ties", "large", "nan_inf"), undefined={"nan_inf": QUANT_NAN})),
    "DequantizeLinear": (form(Data(), Const(0.25, F32), Const(10, None), dtypes=("uint8", "int8", "int32")),),
    "DynamicQuantizeLinear": (Form(dtypes=(F32,), undefined={"nan_inf": QUANT_NAN}),),
    "AveragePool": _pool("AveragePool") + (form(Data(IMAGE), name="count_pad", since=7, only=("dtype",),
                                                attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                                                       "count_include_pad": 1}),),
    "MaxPool": _pool("MaxPool") + (form(Data(IMAGE), name="indices", attrs={"kernel_shape": [2, 2]}, since=8,
                                        outputs=2, only=("dtype", "nan_inf")),),
    "LpPool": (form(Data(IMAGE), attrs={"kernel_shape": [2, 2]}),
               form(Data(IMAGE), name="p1", attrs={"kernel_shape": [2, 2], "p": 1}, only=("dtype",))),
    "GlobalAveragePool": (Form(shape=IMAGE),),
    "GlobalMaxPool": (Form(shape=IMAGE),),
    "GlobalLpPool": (Form(shape=IMAGE),),
    "MaxRoiPool": (form(Data(IMAGE), _BOX, attrs={"pooled_shape": [2, 2]}, skip=("empty",)),),
    "RoiAlign": (form(Data(IMAGE), Const([[0, 0, 3, 3], [1, 0.5, 2.5, 3]], None), Const([0, 0]),
                      attrs={"output_height": 2, "output_width": 2}, skip=("empty",)),),
    "MaxUnpool": (form(Data((1, 1, 2, 2)), Const([[[[0, 3], [9, 14]]]]), attrs={"kernel_shape": [2, 2], "strides": [2, 2]}, skip=("empty",)),),
    "LRN": (form(Data(IMAGE), attrs={"size": 3}),),
    "BatchNormalization": (form(Data((2, 3, 4)), Data((3,), plain=True), Data((3,), plain=True), Data((3,), plain=True),
                                Const([1.0, 0.5, 2.0], None)),),
    "InstanceNormalization": (form(Data((2, 3, 4)), Data((3,), plain=True), Data((3,), plain=True)),),
    "GroupNormalization": (form(Data((2, 4, 3)), Data((2,), plain=True), Data((2,), plain=True), attrs={"num_groups": 2},
                                until=21),
                           form(Data((2, 4, 3)), Data((4,), plain=True), Data((4,), plain=True), attrs={"num_groups": 2},
                                since=21)),
    "LayerNormalization": (form(Data(), Data((4,), plain=True), Data((4,), plain=True)),
                           form(Data(), Data((3, 4), plain=True), name="axis1", attrs={"axis": _axis(1)},
                                only=("dtype", "neg_axis"))),
    "RMSNormalization": (form(Data(), Data((4,), plain=True)),),
    "MeanVarianceNormalization": (Form(shape=(2, 3, 2, 2)),
                                  Form(name="axes", shape=(2, 3, 2, 2), attrs={"axes": [1]}, only=("dtype", "nan_inf"))),
    "LpNormalization": (Form(), Form(name="p1", attrs={"p": 1, "axis": 1}, only=("dtype", "zeros"))),
    "PRelu": (form(Data(), Data((4,), plain=True)),),
    "Dropout": (Form(), Form(name="mask", outputs=2, since=12, only=("dtype",))),
    "RNN": _rnn(1),
    "GRU": _rnn(3),
    "LSTM": _rnn(4),
    "Attention": (form(Data((1, 2, 3, 4)), Data((1, 2, 5, 4)), Data((1, 2, 5, 4))),
                  form(Data((1, 2, 3, 4)), Data((1, 2, 3, 4)), Data((1, 2, 3, 4)), name="causal",
                       attrs={"is_causal": 1}, only=("dtype", "nan_inf", "all_neg_inf"))),
    "RotaryEmbedding": (form(Data((1, 2, 3, 4)), Data((3, 2), plain=True), Data((3, 2), plain=True), Index((1, 3), 3),
                             undefined={"neg_index": "position_ids index the caches' rows; the spec gives negative positions no meaning"}),
                        form(Data((1, 3, 8)), Data((1, 3, 2), plain=True), Data((1, 3, 2), plain=True), name="3d",
                             attrs={"num_heads": 2}, only=("dtype", "nan_inf"))),
    "CausalConvWithState": (form(Data((1, 2, 5)), Data((2, 1, 3), plain=True)),
                            form(Data((1, 2, 5)), Data((2, 1, 3), plain=True), Data((2,), plain=True),
                                 Data((1, 2, 2), plain=True), name="state_silu", attrs={"activation": "silu"},
                                 only=("dtype", "nan_inf"))),
    "LinearAttention": (form(Data((1, 3, 4)), Data((1, 3, 4)), Data((1, 3, 4)),
                             attrs={"q_num_heads": 2, "kv_num_heads": 2, "update_rule": "linear"}),),
    "AffineGrid": (form(Data((2, 2, 3)), Const([2, 1, 3, 4]), skip=("empty",)),
                   form(Data((2, 2, 3)), Const([2, 1, 3, 4]), name="align", attrs={"align_corners": 1}, only=("dtype",))),
    "GridSample": (form(Data(IMAGE), Data((1, 3, 2, 2)), skip=("empty",)),      # the grid's batch must match X's
                   form(Data(IMAGE), Data((1, 3, 2, 2)), name="nearest_border",
                        attrs={"mode": "nearest", "padding_mode": "border"}, since=16, only=("dtype", "half_ties"))),
    "NegativeLogLikelihoodLoss": (form(Data((3, 4)), Index((3,), 4)),
                                  form(Data((3, 4)), Index((3,), 4), Data((4,), plain=True), name="weighted_ignore",
                                       attrs={"ignore_index": 1, "reduction": "sum"}, only=("dtype", "nan_inf"))),
    "SoftmaxCrossEntropyLoss": (form(Data((3, 4)), Index((3,), 4)),
                                form(Data((3, 4)), Index((3,), 4), name="none_log_prob", outputs=2,
                                     attrs={"reduction": "none"}, only=("dtype", "nan_inf", "all_neg_inf"))),
    "NonMaxSuppression": (form(Const([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]], F32), Data((1, 1, 3), dtype=F32),
                               Const([2]), Const([0.5], F32), only=("dtype", "nan_inf"),
                               undefined={"nan_inf": "NonMaxSuppression orders boxes by score; the spec gives NaN scores no place in that order"}),
                          form(Const([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]], F32), Data((1, 1, 3), dtype=F32),
                               Const([3]), Const([0.5], F32), Const([0.0], F32), name="center_threshold",
                               attrs={"center_point_box": 1}, only=("dtype", "zeros"))),
    # --- signal processing -------------------------------------------------------------------
    "DFT": (form(Data((1, 8, 1))), form(Data((1, 8, 2)), name="inverse", attrs={"inverse": 1}, only=("dtype", "nan_inf")),
            form(Data((1, 8, 1)), name="onesided", attrs={"onesided": 1}, until=20, only=("dtype",))),
    "STFT": (form(Data((1, 16, 1)), Const(4), None, Const(8)),
             form(Data((1, 16, 1)), Const(4), Data((8,), plain=True), name="window", only=("dtype", "nan_inf"))),
    "BlackmanWindow": _window(), "HammingWindow": _window(), "HannWindow": _window(),
    "MelWeightMatrix": tuple(form(Const(bins), Const(16), Const(8000), Const(0.0, F32), Const(4000.0, F32), name=f"bins{bins}",
                                  only=("dtype",), dtypes=("int64",), primary="T1") for bins in (2, 4, 6)),
    # --- control flow, sequences, optionals ---------------------------------------------------
    "If": (form(Const(True, "bool"), name="then", attrs=_BRANCHES, primary="V", since=9),
           # before opset 9 the branches' Constant takes floats only
           form(Const(True, "bool"), name="then", attrs=_BRANCHES, dtypes=("float16", "float32", "float64"), until=9),
           form(Const(False, "bool"), name="else", attrs=_BRANCHES, only=("dtype", "nan_inf"))),
    "Loop": (form(Const(3), Const(True, "bool"), Data((2, 3)), attrs={"body": g.loop_body()}, outputs=2, primary="V",
                  dtypes=BODY_TYPES),),
    "Scan": (form(None, Data((1, 4)), Data((1, 3, 4)), attrs={"body": g.scan_body(), "num_scan_inputs": 1}, outputs=2,
                  until=9, dtypes=BODY_TYPES, skip=("empty",)),
             form(Data((4,)), Data((3, 4)), attrs={"body": g.scan_body(), "num_scan_inputs": 1}, outputs=2, since=9,
                  dtypes=BODY_TYPES, skip=("empty",)),
             form(Data((4,)), Data((3, 4)), name="reverse", attrs={"body": g.scan_body(), "num_scan_inputs": 1,
                                                                   "scan_input_directions": [1]},
                  outputs=2, since=9, only=("dtype",), dtypes=BODY_TYPES)),
    "SequenceAt": (form(Data(seq=3), Const(1)), form(Data(seq=3), Const(-1), name="negative", only=("dtype",))),
    "SequenceLength": (form(Data(seq=3)),),
    "SequenceInsert": (form(Data(seq=2), Data(), tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),)),
                       form(Data(seq=2), Data(), Const(0), name="front",
                            tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),), only=("dtype",))),
    "SequenceErase": (form(Data(seq=3), tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),)),
                      form(Data(seq=3), Const(-3), name="first",
                           tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),), only=("dtype",))),
    "SequenceConstruct": (form(Data(), Data(), tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),)),),
    "SequenceEmpty": (Form(attrs={"dtype": g.type_of()}, tail=(("SequenceLength", {}),), dtypes=NUMERIC),),
    "ConcatFromSequence": (form(Data(seq=3), attrs={"axis": _axis(1)}),
                           form(Data(seq=3), name="new_axis", attrs={"axis": _axis(0), "new_axis": 1},
                                only=("dtype", "neg_axis"))),
    "SequenceMap": (form(Data(seq=3), attrs={"body": g.map_body("Identity")},
                         tail=(("ConcatFromSequence", {"axis": 0, "new_axis": 1}),)),),
    "Optional": (form(Data(), tail=(("OptionalGetElement", {}),)),),
    "OptionalGetElement": (form(Data(optional=True)), form(Data(), name="tensor", since=18, only=("dtype",))),
    "OptionalHasElement": (form(Data(optional=True)), form(Data(), name="tensor", since=18, only=("dtype",))),
    # --- random generators: no golden ---------------------------------------------------------
    **{op: (Form(attrs={"shape": [2, 3], "seed": 1.0}, undefined={f: RANDOM for f in ("dtype", "nan_inf", "empty")},
                 dtypes=(F32,), only=("dtype",)),
            Form(name="normal_params", attrs={"shape": [3], "seed": 2.0}, undefined={"dtype": RANDOM}, only=("dtype",)),
            Form(name="float64", attrs={"shape": [2], "seed": 3.0, "dtype": TP.DOUBLE}, undefined={"dtype": RANDOM},
                 only=("dtype",)))
       for op in ("RandomNormal", "RandomUniform")},
    **{op: (Form(attrs={"seed": 1.0}, undefined={f: RANDOM for f in ("dtype", "empty", "nan_inf")},
                 only=("dtype", "empty", "nan_inf")),)
       for op in ("RandomNormalLike", "RandomUniformLike")},
    # --- strings -----------------------------------------------------------------------------
    "RegexFullMatch": tuple(Form(name=name, attrs={"pattern": pattern}, only=("dtype", "empty"))
                            for name, pattern in (("word", r"[A-Za-z]+"), ("any", ".*"), ("lower", "[a-z]*"))),
    "StringConcat": (Form(unjudged=STRINGS), form(Data((2, 3)), Data((3,)), name="broadcast", only=("dtype",),
                                                  unjudged=STRINGS),
                     form(Data(), Data(), name="same", only=("empty",), unjudged=STRINGS)),
    "StringNormalizer": tuple(form(Data((5,)), name=name, attrs=attrs, only=("dtype",), unjudged=STRINGS)
                              for name, attrs in (("lower", {"case_change_action": "LOWER"}),
                                                  ("upper_stop", {"case_change_action": "UPPER", "stopwords": ["a"]}),
                                                  ("none_sensitive", {"is_case_sensitive": 1, "stopwords": ["Hello"]}))),
    "StringSplit": tuple(form(Data((4,)), name=name, attrs=attrs, outputs=2, only=("dtype",), unjudged=STRINGS)
                         for name, attrs in (("whitespace", {}), ("delimiter", {"delimiter": "b"}),
                                             ("maxsplit", {"delimiter": " ", "maxsplit": 1}))),
    "TfIdfVectorizer": (form(Data((2, 6), dtype="int64", plain=True), only=("dtype",), dtypes=("int64", "int32"),
                             attrs={"mode": "TF", "min_gram_length": 1, "max_gram_length": 2, "max_skip_count": 0,
                                    "ngram_counts": [0, 3], "ngram_indexes": [0, 1, 2, 3, 4],
                                    "pool_int64s": [0, 1, 2, 0, 1, 1, 2]}),
                        form(Data((6,), dtype="int64", plain=True), name="idf_skip", only=("dtype",),
                             attrs={"mode": "TFIDF", "min_gram_length": 2, "max_gram_length": 2, "max_skip_count": 1,
                                    "ngram_counts": [0, 0], "ngram_indexes": [0, 1], "pool_int64s": [1, 2, 2, 3],
                                    "weights": [0.5, 2.0]})),
    # --- images ------------------------------------------------------------------------------
    "ImageDecoder": (form(Const(g.ppm_bytes(), "uint8"), name="ppm", only=("dtype",)),
                     form(Const(g.pgm_bytes(), "uint8"), name="pgm_gray", attrs={"pixel_format": "Grayscale"},
                          only=("dtype",)),
                     form(Const(g.png_bytes(), "uint8"), name="png_bgr", attrs={"pixel_format": "BGR"}, only=("dtype",))),
    # --- ai.onnx.ml ---------------------------------------------------------------------------
    "Binarizer": (Form(), Form(name="threshold", attrs={"threshold": 0.5}, only=("dtype", "nan_inf"))),
    "LabelEncoder": (form(Data((5,), dtype="int64"), name="int_to_int", only=("dtype", "int_extremes"), since=2,
                          attrs={"keys_int64s": [0, 1, 2], "values_int64s": [10, 20, 30], "default_int64": -1}),
                     form(Data((5,), dtype="float32"), name="float_to_int", only=("dtype", "nan_inf"), since=2,
                          attrs={"keys_floats": [0.5, -1.0], "values_int64s": [7, 8], "default_int64": -1}),
                     form(Data((5,), dtype="object"), name="str_to_int", only=("dtype",), dtypes=("object",), until=2,
                          attrs={"classes_strings": ["a", "Hello"], "default_int64": -1}),
                     form(Data((5,), dtype="object"), name="str_to_int", only=("dtype",), dtypes=("object",), since=2,
                          attrs={"keys_strings": ["a", "Hello"], "values_int64s": [1, 2], "default_int64": 0})),
    "TreeEnsemble": (form(Data((4, 2), dtype=F32), only=("dtype", "nan_inf"), dtypes=(F32, "float64"), attrs=g.TREE),
                     form(Data((4, 2), dtype=F32), name="average_logistic", only=("dtype",), dtypes=(F32,),
                          attrs={**g.TREE, "aggregate_function": 0, "post_transform": 2})),
    # --- ai.onnx.preview.training --------------------------------------------------------------
    "Adagrad": (form(Const(0.1, F32), Const(1), Data((4,)), Data((4,)), Data((4,), plain=True), outputs=2,
                     attrs={"epsilon": 1e-6}, dtypes=(F32, "float64"), skip=("empty",)),),
    "Momentum": (form(Const(0.1, F32), Const(1), Data((4,)), Data((4,)), Data((4,), plain=True), outputs=2,
                      attrs={"alpha": 0.9, "beta": 0.5, "mode": "standard", "norm_coefficient": 0.01},
                      dtypes=(F32, "float64"), skip=("empty",)),),
    "Adam": (form(Const(0.1, F32), Const(1), Data((4,)), Data((4,)), Data((4,), plain=True), Data((4,), plain=True),
                  outputs=3, dtypes=(F32, "float64"), skip=("empty",)),),
}
