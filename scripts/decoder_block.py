"""A small decoder block (RMSNorm, rotary q/k, grouped-query causal attention, SwiGLU MLP) exported
with torch.onnx.export(dynamo=True) at several opsets, checked on onnxruntime against torch.

    python scripts/decoder_block.py [--opsets 23,18,17] [--static] [--out DIR] [--json RESULT.json]

Seeded random weights, no embedding: the input is x of shape (batch, seq, hidden) = (3, 20, 64);
batch and sequence are exported dynamic. Per opset it reports the ONNX ops in the exported graph
(with their domains), whether onnxruntime loads and runs it, and the max abs error against torch
on the export input and on a second shape (2, 11, 64) that exercises the dynamic dims.
Exits 1 when an export raises, onnxruntime cannot load or run a model, or an error exceeds --atol;
an opset the exporter could not convert down to (17 stays 18 here) is reported, not failed.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HIDDEN, N_HEADS, N_KV_HEADS, HEAD_DIM, FFN = 64, 8, 2, 8, 128


def rotary_tables(seq_len: int, head_dim: int, base: float = 10000.0, dtype=torch.float32):
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    pos = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)                      # (seq, head_dim/2)
    emb = torch.cat([freqs, freqs], dim=-1)                 # (seq, head_dim)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(t):
    t1, t2 = t.chunk(2, dim=-1)
    return torch.cat([-t2, t1], dim=-1)


def apply_rotary(t, cos, sin):
    # t: (batch, heads, seq, head_dim); cos/sin: (seq, head_dim)
    return t * cos + rotate_half(t) * sin


class DecoderBlock(nn.Module):
    def __init__(self, hidden=HIDDEN, n_heads=N_HEADS, n_kv_heads=N_KV_HEADS, head_dim=HEAD_DIM, ffn=FFN):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, head_dim
        self.attn_norm = nn.RMSNorm(hidden, eps=1e-6)
        self.q_proj = nn.Linear(hidden, n_heads * head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, n_kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, n_kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(n_heads * head_dim, hidden, bias=False)
        self.mlp_norm = nn.RMSNorm(hidden, eps=1e-6)
        self.gate = nn.Linear(hidden, ffn, bias=False)
        self.up = nn.Linear(hidden, ffn, bias=False)
        self.down = nn.Linear(ffn, hidden, bias=False)
        # rotary tables for up to 512 positions, sliced to the sequence length
        cos, sin = rotary_tables(512, head_dim)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, x):
        b, s, _ = x.shape
        h = self.attn_norm(x)
        q = self.q_proj(h).view(b, s, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = self.cos[:s], self.sin[:s]
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        a = a.transpose(1, 2).reshape(b, s, self.n_heads * self.head_dim)
        x = x + self.o_proj(a)
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def build(seed: int = 0) -> DecoderBlock:
    torch.manual_seed(seed)
    model = DecoderBlock().eval()
    with torch.no_grad():  # non-trivial norm weights so that a dropped scale shows
        for norm in (model.attn_norm, model.mlp_norm):
            norm.weight.uniform_(0.5, 1.5)
    return model


def op_counts(model) -> dict[str, int]:
    c = collections.Counter(f"{n.domain + '::' if n.domain not in ('', 'ai.onnx') else ''}{n.op_type}"
                            for n in model.graph.node)
    # ops inside local functions too (the exporter may emit some as functions)
    for f in model.functions:
        for n in f.node:
            c[f"[fn {f.name}] {n.op_type}"] += 1
    return dict(sorted(c.items()))


def export_one(model, x, opset: int, path: Path, dynamic: bool = True) -> dict:
    rec: dict = {"opset": opset, "dynamic": dynamic}
    kwargs = {}
    if dynamic:
        d = torch.export.Dim
        kwargs["dynamic_shapes"] = {"x": {0: d("batch", max=64), 1: d("seq", max=512)}}
    t0 = time.perf_counter()
    try:
        torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=opset, external_data=False,
                          verbose=False, **kwargs)
    except Exception as exc:
        rec["export_error"] = f"{type(exc).__name__}: {exc}"[:3000]
        rec["export_traceback_tail"] = traceback.format_exc()[-3000:]
        return rec
    rec["export_s"] = round(time.perf_counter() - t0, 2)
    import onnx
    m = onnx.load(str(path))
    rec["ir_version"] = m.ir_version
    rec["opset_imports"] = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    rec["produced_opset"] = rec["opset_imports"].get("ai.onnx")
    rec["ops"] = op_counts(m)
    rec["inputs"] = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
                     for i in m.graph.input]
    try:
        onnx.checker.check_model(m, full_check=True)
        rec["checker"] = "ok"
    except Exception as exc:
        rec["checker"] = f"{type(exc).__name__}: {exc}"[:500]
    return rec


def run_ort(path: Path, model, shapes) -> dict:
    import onnxruntime as ort
    out: dict = {}
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:
        return {"ort_load_error": f"{type(exc).__name__}: {exc}"[:1500]}
    name = sess.get_inputs()[0].name
    for shape in shapes:
        key = "x".join(map(str, shape))
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model(x).numpy()
        try:
            got = sess.run(None, {name: x.numpy()})[0]
            out[key] = {"max_abs_err": float(np.max(np.abs(got - ref))),
                        "max_abs_ref": float(np.max(np.abs(ref))), "shape": list(got.shape)}
        except Exception as exc:
            out[key] = {"ort_run_error": f"{type(exc).__name__}: {exc}"[:1500]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opsets", default="23,18,17")
    ap.add_argument("--out", type=Path, default=None, help="folder for the .onnx files (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here too")
    ap.add_argument("--static", action="store_true", help="also export without dynamic shapes")
    ap.add_argument("--atol", type=float, default=1e-4, help="largest max abs error against torch that passes")
    ap.add_argument("--pt2", type=Path, default=None,
                    help="also save the block as a torch.export program (for `conformance check decoder.pt2`)")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="decoder-"))
    out.mkdir(parents=True, exist_ok=True)
    import onnx
    import onnxruntime
    import onnxscript
    results = {"versions": {"torch": torch.__version__, "onnx": onnx.__version__,
                            "onnxscript": onnxscript.__version__, "onnxruntime": onnxruntime.__version__},
               "exports": []}
    model = build()
    x = torch.randn(3, 20, HIDDEN, generator=torch.Generator().manual_seed(0))
    if args.pt2:
        torch.export.save(torch.export.export(model, (x,)), str(args.pt2))
        print(f"saved {args.pt2}")
    variants = [(int(o), True) for o in args.opsets.split(",")]
    if args.static:
        variants += [(int(o), False) for o in args.opsets.split(",")]
    for opset, dynamic in variants:
        path = out / f"decoder_opset{opset}{'' if dynamic else '_static'}.onnx"
        rec = export_one(model, x, opset, path, dynamic)
        if "export_error" not in rec:
            rec["path"] = str(path)
            rec["ort"] = run_ort(path, model, [(3, 20, HIDDEN)] + ([(2, 11, HIDDEN)] if dynamic else []))
        results["exports"].append(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != "export_traceback_tail"}, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    bad = 0
    for rec in results["exports"]:
        tag = f"opset {rec['opset']}{'' if rec['dynamic'] else ' static'}"
        if "export_error" in rec:
            err = rec["export_error"]
            summary = err.split("## Exception summary", 1)[-1].strip().splitlines()  # torch's ConversionError
            print(f"FAIL {tag}: export: {(summary[0] if summary else err)[:300]}")
            bad += 1
            continue
        ort_res = rec.get("ort", {})
        errs = [v.get("max_abs_err") for v in ort_res.values()] if isinstance(ort_res, dict) else []
        problem = ort_res.get("ort_load_error") or next(
            (v["ort_run_error"] for v in ort_res.values() if isinstance(v, dict) and "ort_run_error" in v), None)
        if problem is None and any(e is None or e > args.atol for e in errs):
            problem = f"max abs error {max(e for e in errs if e is not None)} > {args.atol}"
        fused = [op for op in ("Attention", "RMSNormalization", "RotaryEmbedding") if op in rec["ops"]]
        line = (f"{tag}: produced opset {rec['produced_opset']}, {sum(rec['ops'].values())} nodes, "
                f"fused ops {fused or 'none'}, max abs err {max(errs) if errs and None not in errs else '-'}")
        print(("FAIL " + line + f": {problem}") if problem else ("ok   " + line))
        bad += problem is not None
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
