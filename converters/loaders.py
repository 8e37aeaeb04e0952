"""Load a user's model file inside its framework's worker and describe it as a ``Built``.

Builder: ``converters.loaders:load_source(params, seed)`` with params from
``conformance.sources.source_spec``. Inputs come from an ``.npz`` (by input name) or are
generated, seeded, from the model's own signature; ``--shape name=dims`` fills dynamic dims
(a dim left unknown defaults to 1). torch files are read with the restricted loaders only
(TorchScript's own archive reader, torch.export.load), never with unrestricted pickle.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from conformance.cases import Built
from conformance.inputs import random_array
from conformance.sources import SourceRefused
from converters.frameworks import flatten


def _sample(shape, dtype, rng) -> np.ndarray:
    """Floats N(0, 1), ints in [0, 8) (valid indices of small embedding tables), bools fair coins."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fiub":
        raise SourceRefused(f"cannot generate inputs of dtype {dtype}; pass --inputs FILE.npz")
    return random_array(rng, dtype, shape, int_high=8)


def _inputs(signature, params, seed) -> tuple[list[str], list[np.ndarray], dict]:
    """signature: [(name, shape with None/-1 for unknown, numpy dtype)]."""
    names = [n for n, _, _ in signature]
    dynamic = {n: {i: f"{n}_d{i}" for i, d in enumerate(s) if d is None or d < 0} for n, s, _ in signature}
    if params.get("inputs"):
        with np.load(params["inputs"], allow_pickle=False) as z:
            missing = [n for n in names if n not in z.files]
            if missing and len(z.files) == len(names):      # unnamed arrays: take them in order
                return names, [z[k] for k in z.files], dynamic
            if missing:
                raise SourceRefused(f"--inputs has no array named {missing[0]!r} (it has {', '.join(z.files)})")
            return names, [z[n] for n in names], dynamic
    rng = np.random.default_rng(seed)
    shapes = params.get("shapes") or {}
    arrays = []
    for name, shape, dtype in signature:
        given = shapes.get(name)
        if given is not None:
            if len(given) != len(shape) or any(d is not None and d >= 0 and d != g for d, g in zip(shape, given)):
                raise SourceRefused(f"--shape {name}={'x'.join(map(str, given))} does not fit the model's {list(shape)}")
            dims = given
        else:
            dims = [1 if d is None or d < 0 else int(d) for d in shape]
        arrays.append(_sample(dims, dtype, rng))
    return names, arrays, dynamic


def _dynamic(dynamic):
    return {k: v for k, v in dynamic.items() if v} or None


# -- torch ------------------------------------------------------------------------------------
def _torch_dtype(t):
    import torch
    return torch.empty((), dtype=t).numpy().dtype


def _load_torchscript(params, seed) -> Built:
    import torch
    module = torch.jit.load(params["path"], map_location="cpu")
    module.eval()
    arg_names = [a.name for a in module.forward.schema.arguments[1:]]
    shapes = params.get("shapes") or {}
    if not params.get("inputs") and any(n not in shapes for n in arg_names):
        raise SourceRefused(f"a TorchScript archive records no input shapes: pass --shape for "
                            f"{', '.join(arg_names)} (e.g. --shape {arg_names[0]}=1x3x224x224) or --inputs FILE.npz")
    signature = [(n, [-1] * len(shapes[n]) if n in shapes else [], np.float32) for n in arg_names]
    names, arrays, _ = _inputs(signature, params, seed)
    return Built(model=module, inputs=arrays, input_names=names)


def _load_torch_export(params, seed) -> Built:
    import torch
    program = torch.export.load(params["path"])
    user_inputs = list(program.graph_signature.user_inputs)
    examples = getattr(program, "example_inputs", None)
    args = list(examples[0]) if examples else []
    signature = []
    for i, name in enumerate(user_inputs):
        if i < len(args) and hasattr(args[i], "shape"):
            signature.append((name, list(args[i].shape), _torch_dtype(args[i].dtype)))
        else:
            raise SourceRefused(f"the ExportedProgram keeps no sample for input {name!r}: pass --inputs FILE.npz")
    names, arrays, _ = _inputs(signature, params, seed)

    def run(prog, inputs):
        with torch.no_grad():
            out = prog.module()(*[torch.from_numpy(np.require(x, requirements="C")) for x in inputs])
        return flatten(out, lambda t: t.detach().numpy())

    return Built(model=program, inputs=arrays, input_names=names, run=run)


# -- tensorflow ------------------------------------------------------------------------------
def _load_keras(params, seed) -> Built:
    import keras
    model = keras.saving.load_model(params["path"], compile=False, safe_mode=True)
    signature = [(t.name, list(t.shape), np.dtype(str(t.dtype))) for t in model.inputs]
    names, arrays, dynamic = _inputs(signature, params, seed)
    return Built(model=model, inputs=arrays, input_names=names, dynamic_axes=_dynamic(dynamic))


def _load_savedmodel(params, seed) -> Built:
    import tensorflow as tf
    loaded = tf.saved_model.load(params["path"])
    if "serving_default" not in loaded.signatures:
        raise SourceRefused(f"{params['path']}: the SavedModel has no 'serving_default' signature "
                            f"(it has: {', '.join(loaded.signatures) or 'none'})")
    fn = loaded.signatures["serving_default"]
    _, kwargs = fn.structured_input_signature
    names = sorted(kwargs)
    signature = [(n, [d if d is not None else -1 for d in kwargs[n].shape.as_list()], kwargs[n].dtype.as_numpy_dtype)
                 for n in names]
    names, arrays, dynamic = _inputs(signature, params, seed)
    output_keys = sorted(fn.structured_outputs)

    def serving(*tensors):
        out = fn(**dict(zip(names, tensors)))
        return [out[k] for k in output_keys]

    serving._keep_alive = loaded      # the signature dies with the loaded object
    return Built(model=serving, inputs=arrays, input_names=names, output_names=None,
                 dynamic_axes=_dynamic(dynamic))


def _load_tflite(params, seed) -> Built:
    """A ``.tflite`` file: LiteRT runs it for the expected outputs (a quantized model's own
    arithmetic included). Inputs are named after the tensors behind its serving signature,
    which is what ``tf2onnx.convert.from_tflite`` names the ONNX inputs."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=params["path"])
    signatures = interpreter._get_full_signature_list()
    if not signatures:
        raise SourceRefused(f"{params['path']}: the .tflite model has no serving signature",
                            fix="convert it from a SavedModel or a Keras model, which write one")
    key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
    details = {d["index"]: d for d in interpreter.get_input_details()}
    sig_inputs = list(signatures[key]["inputs"].items())
    signature = [(details[i]["name"], [int(d) for d in details[i]["shape_signature"]], details[i]["dtype"])
                 for _, i in sig_inputs]
    names, arrays, dynamic = _inputs(signature, params, seed)
    runner = interpreter.get_signature_runner(key)
    outputs = sorted(signatures[key]["outputs"])

    def run(_, inputs):
        result = runner(**{sig_name: np.require(x, requirements="C") for (sig_name, _), x in zip(sig_inputs, inputs)})
        return [np.array(result[name]) for name in outputs]

    # int8 weights with float inputs and outputs: dynamic-range quantization (LiteRT's hybrid kernels)
    quantized = any(d["dtype"] == np.int8 for d in interpreter.get_tensor_details())
    return Built(model=runner, inputs=arrays, input_names=names, run=run, dynamic_axes=_dynamic(dynamic),
                 options={"precision": "int8-dynamic-range" if quantized else "fp32",
                          "tflite_path": params["path"], "output_tensors": [
                     interpreter._interpreter.TensorName(signatures[key]["outputs"][n], 0) for n in outputs]})


# -- paddle ------------------------------------------------------------------------------------
def _load_paddle(params, seed) -> Built:
    import paddle
    layer = paddle.jit.load(params["path"])
    specs = layer._input_spec()
    signature = [(s.name, list(s.shape), np.dtype(str(s.dtype).replace("paddle.", ""))) for s in specs]
    names, arrays, dynamic = _inputs(signature, params, seed)
    prefix = Path(params["path"])
    model_file = next((prefix.with_suffix(s) for s in (".json", ".pdmodel") if prefix.with_suffix(s).exists()), None)
    return Built(model=layer, inputs=arrays, input_names=names, dynamic_axes=_dynamic(dynamic),
                 options={"paddle_files": [str(model_file), str(prefix.with_suffix(".pdiparams"))]})


LOADERS = {"torchscript": _load_torchscript, "torch-export": _load_torch_export, "keras": _load_keras,
           "keras-h5": _load_keras, "savedmodel": _load_savedmodel, "tflite": _load_tflite, "paddle": _load_paddle}


def load_source(params: dict, seed: int) -> Built:
    try:
        loader = LOADERS[params["format"]]
    except KeyError:
        raise SourceRefused(f"no loader for format {params.get('format')!r}") from None
    try:
        return loader(params, seed)
    except SourceRefused:
        raise
    except Exception as exc:
        raise SourceRefused(f"{params['path']}: the {params['format']} loader could not read it: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
