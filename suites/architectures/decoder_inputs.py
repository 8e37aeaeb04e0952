"""What the decoder builders of every framework share (numpy only): the prefill and decode
cases' input sets, names, dynamic axes and expected shapes, for any model and KV-cache shape."""
from __future__ import annotations

import numpy as np

from conformance.cases import Built
from suites.architectures.specs_generation import cache_names


def prefill_built(model, c: dict, params: dict, seed: int, kv_shape) -> Built:
    """tokens (batch, seq) -> logits and the present cache; ``params["sets"]`` [[batch, seq], ...]
    (the first is the traced sample); ``kv_shape(c, batch, length)`` the shape of one cache tensor."""
    rng = np.random.default_rng(seed)
    sets = [tuple(s) for s in params.get("sets", [[2, 7], [1, 7], [4, 11]])]
    inputs = [[rng.integers(0, c["vocab"], size=(b, t)).astype(np.int64)] for b, t in sets]
    present = cache_names("present", c["layers"])
    return Built(model=model, inputs=inputs[0], input_names=["tokens"], output_names=["logits", *present],
                 dynamic_axes={"tokens": {0: "batch", 1: "seq"}}, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, t, c["vocab"])] + [kv_shape(c, b, t)] * len(present) for b, t in sets])


def decode_built(model, c: dict, params: dict, seed: int, kv_shape) -> Built:
    """One token, its position and the past cache -> logits and the new cache; ``params["sets"]``
    [[batch, past], ...]. The past cache is drawn at the scale of a real one (standard normal);
    the position is the past length."""
    rng = np.random.default_rng(seed)
    sets = [tuple(s) for s in params.get("sets", [[2, 6], [1, 9], [4, 13]])]
    past = cache_names("past", c["layers"])
    input_sets = []
    for b, t in sets:
        token = rng.integers(0, c["vocab"], size=(b, 1)).astype(np.int64)
        input_sets.append([token, np.full((b, 1), t, np.int64)]
                          + [rng.standard_normal(kv_shape(c, b, t)).astype(np.float32) for _ in past])
    dynamic = {"token": {0: "batch"}, "position": {0: "batch"}, **{n: {0: "batch", 2: "past"} for n in past}}
    return Built(model=model, inputs=input_sets[0], input_names=["token", "position", *past],
                 output_names=["logits", *cache_names("present", c["layers"])], dynamic_axes=dynamic,
                 extra_inputs=input_sets[1:],
                 expected_shapes=[[(b, 1, c["vocab"])] + [kv_shape(c, b, t + 1)] * len(past) for b, t in sets])


def generation_built(core, c: dict, params: dict, seed: int, generate) -> Built:
    """The source side of a generation case: the prompt (``params["batch"]``, ``params["prompt"]``)
    int64 as the input, and ``run`` the framework's greedy generation ``generate(prompt,
    new_tokens) -> (tokens, logits)`` of ``params["new_tokens"]`` tokens."""
    rng = np.random.default_rng(seed)
    prompt = rng.integers(0, c["vocab"], size=(params.get("batch", 2), params.get("prompt", 7))).astype(np.int64)
    new_tokens = params.get("new_tokens", 32)
    return Built(model=core, inputs=[prompt], input_names=["prompt"], output_names=["tokens", "logits"],
                 run=lambda model, inputs: list(generate(inputs[0], new_tokens)))
