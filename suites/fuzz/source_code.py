"""A finding's reduced graph as a short runnable script in its source framework (``model.py`` of
the repro folder): the operator table's calls written out literally, run on ``inputs.npz`` and
compared with ``expected.npz``. A node the table builds as a layer (conv, norm, attention: its
weights are seeded, not literal) makes the script rebuild the graph with the fuzz program
builder of this checkout instead."""
from __future__ import annotations

from pathlib import Path

from suites.operators.specs import spec_by_name

from .evaluate import BUILDERS

IMPORTS = {"torch": "import torch", "tensorflow": "import tensorflow as tf", "paddle": "import paddle"}
TENSOR = {"torch": "torch.from_numpy({})", "tensorflow": "tf.convert_to_tensor({})", "paddle": "paddle.to_tensor({})"}
NUMPY = {"torch": "{}.detach().numpy()", "tensorflow": "{}.numpy()", "paddle": "{}.numpy()"}
ROOT = {"torch": "torch", "tensorflow": "tf", "paddle": "paddle"}
CHECKOUT = Path(__file__).resolve().parents[2]


def _literal(framework: str, key: str, value) -> str:
    if key == "dtype" and framework == "torch" and isinstance(value, str):
        return f"torch.{value}"
    return repr(value)


def _slices(spec) -> str:
    parts = [":" if s is None else (str(s) if isinstance(s, int) else ":".join(str(v) for v in s)) for s in spec]
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _target(framework: str, dotted: str) -> str:
    first, _, rest = dotted.partition(".")
    return f"{ROOT[framework]}.{rest}" if first in ("torch", "tensorflow", "tf", "paddle") else dotted


def node_expr(node: dict, framework: str, args: list[str]) -> str | None:
    """The node's call as a Python expression over ``args``, or None for a layer or a control
    structure (``loop``, ``cond``: not table entries)."""
    spec = spec_by_name().get(node["op"])
    if spec is None or spec.call(framework) is None:
        return None
    call = spec.call(framework).resolve(node["attrs"], {})
    kwargs = [f"{k}={_literal(framework, k, v)}" for k, v in call["kwargs"].items() if k != "slices"]
    if call["kind"] == "getitem":
        expr = f"{args[0]}[{_slices(call['kwargs']['slices'])}]"
    elif call["kind"] == "method":
        expr = f"{args[0]}.{call['target']}({', '.join(args[1:] + kwargs)})"
    elif call["kind"] == "fn":
        if call["names"]:
            tensors = [f"{n}={a}" for n, a in zip(call["names"], args)]
        elif call["packed"]:
            tensors = ["[" + ", ".join(args) + "]"]
        else:
            tensors = [repr(p) for p in call["pre"]] + args
        expr = f"{_target(framework, call['target'])}({', '.join(tensors + kwargs)})"
    else:
        return None
    return expr + (f"[{node['item']}]" if "item" in node else "")


def _literal_body(graph: dict, framework: str) -> list[str] | None:
    n_in = len(graph["inputs"])
    lines = [f"x{i} = {TENSOR[framework].format(f'inputs[{i}]')}" for i in range(n_in)]
    names = [f"x{i}" for i in range(n_in)]
    for j, node in enumerate(graph["nodes"]):
        expr = node_expr(node, framework, [names[a] for a in node["args"]])
        if expr is None:
            return None
        names.append(f"v{n_in + j}")
        lines.append(f"{names[-1]} = {expr}")
    outs = ", ".join(NUMPY[framework].format(names[o]) for o in graph["outputs"])
    return lines + [f"outputs = [{outs}]"]


def _builder_body(graph: dict, framework: str, seed: int) -> list[str]:
    module, _ = BUILDERS[framework].split(":")
    return ["import json, sys", f"sys.path.insert(0, {str(CHECKOUT)!r})   # the checkout the campaign ran in",
            f"from {module} import build",
            f"built = build({{'graph': json.loads((HERE / 'graph.json').read_text())}}, {seed})",
            "model = built.model",
            f"outputs = [{NUMPY[framework].format('y')} for y in model(*[{TENSOR[framework].format('x')} "
            "for x in inputs])]"]


def script(graph: dict, framework: str, title: str, seed: int = 0) -> str:
    """The runnable script: prints each output's largest difference from the expected one."""
    body = _literal_body(graph, framework) or _builder_body(graph, framework, seed)
    return "\n".join([
        f'"""{title}"""', "import pathlib", "", "import numpy as np", IMPORTS[framework], "",
        "HERE = pathlib.Path(__file__).resolve().parent",
        "data = np.load(HERE / 'inputs.npz')", "inputs = [data[k] for k in data.files]",
        *body,
        "expected = np.load(HERE / 'expected.npz')",
        "for name, got in zip(expected.files, outputs):",
        "    want = expected[name]",
        "    print(name, 'source:', np.asarray(got).ravel()[:8], 'expected:', want.ravel()[:8],",
        "          'same' if np.allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True) else 'DIFFERENT')",
        "if (HERE / 'model.onnx').exists():             # the converted model on onnxruntime, for comparison",
        "    import onnxruntime",
        "    session = onnxruntime.InferenceSession(str(HERE / 'model.onnx'))",
        "    feeds = {i.name: x for i, x in zip(session.get_inputs(), inputs)}",
        "    for name, got in zip(expected.files, session.run(None, feeds)):",
        "        print(name, 'onnxruntime:', got.ravel()[:8])",
        ""])
