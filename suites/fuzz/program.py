"""The framework-neutral half of a generated model (numpy only; imported by every framework's
program builder inside its worker): the input sets at the export shape and at the second
shape, the dynamic axes, the declared output shapes, and ``built()`` that puts them together."""
from __future__ import annotations

import numpy as np

from conformance.cases import Built
from suites.operators import samples


def input_names(graph: dict) -> list[str]:
    return [f"input_{i}" for i in range(len(graph["inputs"]))]


def batches(graph: dict) -> tuple[int, int | None]:
    b = graph.get("batch") or [None, None]
    return b[0], b[1]


def has_free(graph: dict) -> bool:
    return any(s.get("free") for s in graph["inputs"]) and batches(graph)[1] is not None


def at_batch(spec: dict, batch: int) -> dict:
    """The input spec with its free axes set to ``batch``."""
    shape = [batch if i in spec.get("free", ()) else s for i, s in enumerate(spec["shape"])]
    return {**spec, "shape": shape}


def arrays(specs: list[dict], seed: int) -> list[np.ndarray]:
    """One array per spec from one generator seeded ``seed``: corner values (of the spec's
    ``corners`` kinds) where the spec is marked ``corner``, its domain's values otherwise."""
    rng = np.random.default_rng(seed)
    return [np.asarray(samples.corner_values(rng, s, s.get("corners", ())) if s.get("corner") else samples.draw(rng, s))
            for s in specs]


def input_sets(graph: dict, seed: int) -> list[list[np.ndarray]]:
    """The export-shape inputs, then (where the graph has free axes) the second-shape inputs."""
    sets = [arrays(graph["inputs"], seed)]
    if has_free(graph):
        sets.append(arrays([at_batch(s, batches(graph)[1]) for s in graph["inputs"]], seed + 1))
    return sets


def dynamic_axes(graph: dict) -> dict | None:
    """Every input's free axes by name, static inputs as ``{}``, or None where none is free.
    Static inputs are listed because torch.onnx's dynamo exporter applies a dict that leaves
    inputs out by position (a known torch bug, kept in view by the operator case
    ``op/concat/torch/torch-dynamo/*/axis0-later-part-free+dyn``); it would otherwise absorb
    every torch-dynamo crash the fuzzer finds."""
    if not has_free(graph):
        return None
    return {name: {int(a): "batch" for a in s.get("free", ())} for name, s in zip(input_names(graph), graph["inputs"])}


def value_shapes(graph: dict, batch: int) -> list[tuple]:
    """Every value's shape when B is ``batch``: the inputs', then each node's declared output's."""
    specs = list(graph["inputs"]) + [n["out"] for n in graph["nodes"]]
    return [tuple(batch if i in s.get("free", ()) else d for i, d in enumerate(s["shape"])) for s in specs]


def output_shapes(graph: dict, batch: int) -> list[tuple] | None:
    """The declared output shapes when B is ``batch`` (None where a node declares no type)."""
    n_in, out = len(graph["inputs"]), []
    for o in graph["outputs"]:
        t = graph["nodes"][o - n_in].get("out")
        if t is None:
            return None
        out.append(tuple(batch if i in t.get("free", ()) else s for i, s in enumerate(t["shape"])))
    return out


def node_output(node: dict, result):
    """The node's value: a call that returns several tensors (topk, split, an RNN's output and
    state) gives the one at the node's ``item``; a single tensor is the value itself."""
    if isinstance(result, (tuple, list)):
        return result[node.get("item", 0)]
    return result


# -- control-flow structures (drawn by ``control``; each framework builds them with its own loop/if)
STRUCTURES = ("loop", "cond")


def is_structure(node: dict) -> bool:
    return node["op"] in STRUCTURES


def loop_args(node: dict, args: list) -> tuple:
    """(state, trip count or None, y or None) of a loop node's argument values."""
    dynamic = node["attrs"]["trips"] is None
    rest = args[2:] if dynamic else args[1:]
    return args[0], (args[1] if dynamic else None), (rest[0] if rest else None)


def cond_args(args: list) -> tuple:
    """(pred, x, y or None) of a cond node's argument values."""
    return args[0], args[1], (args[2] if len(args) > 2 else None)


def run_body(nodes: list[dict], fns: list, x, y):
    """Evaluate a body: ``fns[k]`` is body node k built by the framework (a callable)."""
    local = [x] if y is None else [x, y]
    for node, fn in zip(nodes, fns):
        local.append(fn(*(local[a] for a in node["args"])))
    return local[-1]


def built(graph: dict, model, sets: list[list[np.ndarray]]) -> Built:
    """The ``Built`` of a generated model: free axes dynamic, the second shape run too, and the
    declared output shapes asserted at both."""
    b1, b2 = batches(graph)
    shapes = [output_shapes(graph, b) for b in ([b1, b2] if len(sets) > 1 else [b1])]
    return Built(model=model, inputs=sets[0], input_names=input_names(graph),
                 dynamic_axes=dynamic_axes(graph) if len(sets) > 1 else None, extra_inputs=sets[1:],
                 expected_shapes=None if b1 is None or any(s is None for s in shapes) else shapes)
