"""Checks the generator's declared types against a framework: every node's output shape and
dtype, at the export batch and at the second one. Runs in the framework's process (``python -m
suites.fuzz.check_types FRAMEWORK graphs.json`` prints one line per mismatch and a count), so
the Paddle check runs in the paddle environment as the Paddle worker does."""
from __future__ import annotations

import importlib
import json
import sys

import numpy as np

MODULES = {"torch": "suites.fuzz.torch_program", "tensorflow": "suites.fuzz.tf_program",
           "paddle": "suites.fuzz.paddle_program"}


def _values(framework: str, model, inputs) -> list[np.ndarray]:
    if framework == "torch":
        import torch
        with torch.no_grad():
            return [v.numpy() for v in model.values(*[torch.from_numpy(np.ascontiguousarray(x)) for x in inputs])]
    if framework == "tensorflow":
        import tensorflow as tf
        return [v.numpy() for v in model.values(*[tf.convert_to_tensor(x) for x in inputs])]
    import paddle
    return [v.numpy() for v in model.values(*[paddle.to_tensor(x) for x in inputs])]


def mismatches(framework: str, graph: dict, seed: int = 7) -> list[str]:
    """What the framework computes that the graph's declared node types do not say."""
    built = importlib.import_module(MODULES[framework]).build({"graph": graph}, seed)
    n_in, out = len(graph["inputs"]), []
    for k, inputs in enumerate([built.inputs] + list(built.extra_inputs)):
        batch = graph["batch"][k]
        values = _values(framework, built.model, inputs)
        for j, node in enumerate(graph["nodes"]):
            t = node["out"]
            want = (tuple(batch if i in t["free"] else d for i, d in enumerate(t["shape"])), t["dtype"])
            got = (tuple(values[n_in + j].shape), str(values[n_in + j].dtype))
            if got != want:
                out.append(f"set {k} node {j} {node['op']} {node['attrs']}: {got} != declared {want}")
    return out


def run_in_environment(framework: str, graphs: list[dict], path, timeout: float = 600) -> str:
    """``main`` over ``graphs`` (written to ``path``) in the interpreter the framework's worker
    uses (Paddle's own environment): its output, ending ``N bad``."""
    import os
    import subprocess

    from conformance.placement import Placements
    interpreter = Placements().framework_interpreter(framework)
    with open(path, "w") as f:
        json.dump(graphs, f)
    env = dict(interpreter.env) if interpreter.env else dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    done = subprocess.run([interpreter.python or sys.executable, "-m", "suites.fuzz.check_types", framework, str(path)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    return done.stdout if done.returncode == 0 else done.stdout + done.stderr[-3000:]


def main(argv: list[str]) -> int:
    framework, path = argv
    bad = 0
    for i, graph in enumerate(json.loads(open(path).read())):
        try:
            problems = mismatches(framework, graph)
        except Exception as exc:        # a graph the framework refuses is a generator bug too
            problems = [f"{type(exc).__name__}: {str(exc)[:300]}"]
        for p in problems:
            print(f"graph {i}: {p}")
        bad += bool(problems)
    print(f"{bad} bad")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
