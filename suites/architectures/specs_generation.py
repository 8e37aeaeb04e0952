"""Decoder-only LLM blocks with a KV cache (issue 19): the prefill and decode models as ordinary
architecture cases, and the greedy generation check (kind ``generation``,
``conformance.generation``). Imports no framework; the builders
(``suites.architectures.decoders_torch``) run in the torch worker.

Ids: ``arch/decoder/torch/<converter>/opset<N>/<target>/<decoder>-<prefill|decode>`` and
``generation/decoder/torch/<converter>/opset<N>/<target>/<decoder>-greedy32``.

Decoders (``decoders_torch.CONFIGS``; vocabulary 64, d_model 32, 2 layers):

* ``llama``: ``nn.RMSNorm`` and ``F.scaled_dot_product_attention(enable_gqa=True)``, as recent
  torch code writes them: at opset 23 the dynamo exporter writes ``Attention`` (GQA, 4 query /
  2 kv heads) and ``RMSNormalization``;
* ``llama-hf``: RMSNorm written out and the key/value heads repeated before sdpa, as Hugging
  Face's Llama writes them: the form the TorchScript exporter converts (it has no
  ``aten::rms_norm`` and no sdpa ``enable_gqa``: the ``llama`` cases record that as unsupported);
* ``gpt2``: learned positions, LayerNorm, fused q/k/v, attention written out, GELU (tanh);
  also in Keras 3 (``decoders_keras``) through tf2onnx and in Paddle (``decoders_paddle``)
  through paddle2onnx, at opset 17.

Opsets: every case is pinned (``CaseSpec.opset``) to the matrix of issue 19: both exporters at
17, torch-dynamo also at 18 (its native opset) and 23 (the newest it writes). ``--opset``
selects among them. Each architecture case runs 3 input sets from one conversion: (batch 2) the
traced sample (batch 2, not 1: torch.export specializes size-1 dimensions, see specs.py), then
batch 1 and batch 4 at a sequence / past length not seen at export.
"""
from __future__ import annotations

from conformance.cases import CaseSpec

TORCH = "suites.architectures.decoders_torch"

# the decoders' widths, shared by the builders of every framework
CONFIGS = {
    "llama": {"vocab": 64, "d_model": 32, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 64, "max_positions": 128,
              "rope_theta": 10000.0, "eps": 1e-5, "rms_norm": "module", "gqa": "sdpa"},
    "gpt2": {"vocab": 64, "d_model": 32, "layers": 2, "heads": 4, "kv_heads": 4, "ffn": 128, "max_positions": 128,
             "eps": 1e-5},
}


def cache_names(prefix: str, layers: int) -> list[str]:
    return [f"{prefix}_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


NEW_TOKENS = 32

DECODERS = {
    "llama": {"decoder": "llama"},
    "llama-hf": {"decoder": "llama", "config": {"rms_norm": "written", "gqa": "repeat"}},
    "gpt2": {"decoder": "gpt2"},
}
# (opset, converters) pinned per case
OPSETS = ((17, ("torch-script", "torch-dynamo")), (18, ("torch-dynamo",)), (23, ("torch-dynamo",)))
# llama-hf exists for the TorchScript exporter; the dynamo exporter has the llama cases
OPSETS_OF = {"llama": OPSETS, "llama-hf": ((17, ("torch-script", "torch-dynamo")),), "gpt2": OPSETS}


def _pinned(kind, name, builder, params, variant, arch) -> list[CaseSpec]:
    return [CaseSpec(kind=kind, name=name, framework="torch", builder=builder, params=params, variant=variant,
                     arch=arch, converters=converters, opset=opset)
            for opset, converters in OPSETS_OF[arch]]


def prefill_spec(decoder: str) -> CaseSpec:
    """One (unpinned) prefill spec of a decoder: the conversion the generation check asks for
    (the pinned copies share its fingerprint, hence its cached conversions)."""
    return CaseSpec(kind="arch", name="decoder", framework="torch", builder=f"{TORCH}:build_prefill",
                    params=DECODERS[decoder], variant=f"{decoder}-prefill", arch=decoder)


def decode_spec(decoder: str) -> CaseSpec:
    return CaseSpec(kind="arch", name="decoder", framework="torch", builder=f"{TORCH}:build_decode",
                    params=DECODERS[decoder], variant=f"{decoder}-decode", arch=decoder)


ARCH_CASES: list[CaseSpec] = [
    spec for decoder in DECODERS for base in (prefill_spec(decoder), decode_spec(decoder))
    for spec in _pinned("arch", "decoder", base.builder, base.params, base.variant, decoder)]

KERAS = "suites.architectures.decoders_keras"
PADDLE = "suites.architectures.decoders_paddle"
# the GPT-2 of the other frameworks, through their converter at opset 17
OTHER_FRAMEWORKS = {"tensorflow": (KERAS, "tf2onnx"), "paddle": (PADDLE, "paddle2onnx")}


def other_spec(framework: str, mode: str) -> CaseSpec:
    module, converter = OTHER_FRAMEWORKS[framework]
    return CaseSpec(kind="arch", name="decoder", framework=framework, builder=f"{module}:build_{mode}",
                    params={"decoder": "gpt2"}, variant=f"gpt2-{mode}", arch="gpt2", converters=(converter,),
                    opset=17)


ARCH_CASES += [other_spec(fw, mode) for fw in OTHER_FRAMEWORKS for mode in ("prefill", "decode")]

# a generation case: the prompt and the source's greedy tokens come from its own builder; the
# models it runs on the target are the prefill and decode cases' conversions, named in params
GENERATION_CASES: list[CaseSpec] = [
    spec for decoder in DECODERS
    for spec in _pinned("generation", "decoder", f"{TORCH}:build_generation",
                        {**DECODERS[decoder], "batch": 2, "prompt": 7, "new_tokens": NEW_TOKENS,
                         "prefill": prefill_spec(decoder).to_dict(), "decode": decode_spec(decoder).to_dict()},
                        f"{decoder}-greedy{NEW_TOKENS}", decoder)]
GENERATION_CASES += [CaseSpec(
    kind="generation", name="decoder", framework=fw, builder=f"{module}:build_generation",
    params={"decoder": "gpt2", "batch": 2, "prompt": 7, "new_tokens": NEW_TOKENS,
            "prefill": other_spec(fw, "prefill").to_dict(), "decode": other_spec(fw, "decode").to_dict()},
    variant=f"gpt2-greedy{NEW_TOKENS}", arch="gpt2", converters=(converter,), opset=17)
    for fw, (module, converter) in OTHER_FRAMEWORKS.items()]
