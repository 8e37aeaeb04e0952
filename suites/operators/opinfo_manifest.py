"""Write ``opinfo_manifest.json``: which OpInfo samples become torch cases.

    python -m suites.operators.opinfo_manifest [--out suites/operators/opinfo_manifest.json]

Case collection must not import torch (the pytest session and the CLI stay framework-free),
so the choice of samples is made here, once per torch release, and committed. Per OpInfo and
per dtype of ``DTYPE_SAMPLES`` it supports, a seeded choice of usable samples: tensors of
dtypes ONNX has, outputs that are tensors, deterministic (the op run twice under different
seeds gives the same outputs), under ``MAX_ELEMENTS`` elements. Each entry keeps the sample's
signature (its tensors' shapes and dtypes), which the builder checks when it regenerates it.
Every OpInfo that yields no case is listed with the reason under ``"excluded"``.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from pathlib import Path

import torch

from conformance.cases import seed_for
from suites.operators import opinfo_torch as ot

DEFAULT_OUT = Path(__file__).resolve().parent / "opinfo_manifest.json"
# dtype -> how many samples per OpInfo (float32 carries most of the coverage; the others find
# the dtype bugs: integer and bool inputs to reductions, scans, logic; float16)
DTYPE_SAMPLES = {"float32": 2, "float16": 1, "int64": 1, "int32": 1, "bool": 1}
MAX_ELEMENTS = 20_000
SECONDS_PER_OP = 20          # generating and trying one OpInfo's samples at one dtype
RANDOM_TRIES = 6             # reruns under other seeds that must give the same outputs (2**-6 to miss a coin)


def _outputs(model, tensors) -> list | None:
    """The op's outputs as tensors, or None when one is not a tensor (ints, sizes, None)."""
    with torch.no_grad():
        out = model(*tensors)
    flat = out if isinstance(out, (list, tuple)) else [out]
    if not flat or not all(isinstance(t, torch.Tensor) for t in flat):
        return None
    return list(flat)


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and torch.equal(torch.nan_to_num(x), torch.nan_to_num(y))
                                    for x, y in zip(a, b))


# ops that draw from torch's generator: OpInfo wraps them in a fixed seed (wrapper_set_seed), so
# eager torch repeats itself, but no exported model can reproduce torch's random stream
RANDOM_OPS = {"bernoulli", "cauchy", "exponential", "geometric", "log_normal", "multinomial", "normal", "uniform",
              "rand_like", "randint_like", "randn_like", "randint", "randn", "pca_lowrank", "svd_lowrank"}


# dropout functions whose ``training`` defaults to False (the others default to True)
NOT_TRAINING_BY_DEFAULT = {"nn.functional.alpha_dropout", "nn.functional.feature_alpha_dropout"}


# ops whose samples pass dropout_p positionally: its index in the sample's args (the op applies it
# when training, which defaults to True). OpInfo wraps the call in a fixed seed, so the eager output
# repeats itself under every seed and only the argument tells.
POSITIONAL_DROPOUT_P = {"nn.functional.multi_head_attention_forward": 9}


def random_by_definition(op_name: str, kwargs: dict, args: tuple = ()) -> bool:
    """Samples whose op draws random numbers (torch's CPU generator happens to repeat some
    draws, e.g. dropout keeps a 0-d tensor under every seed, so reruns cannot tell)."""
    if op_name in RANDOM_OPS or kwargs.get("dropout_p", 0):
        return True
    position = POSITIONAL_DROPOUT_P.get(op_name)
    if position is not None and len(args) > position and args[position] and kwargs.get("training", True):
        return True
    if "dropout" in op_name:
        training = kwargs.get("training", op_name not in NOT_TRAINING_BY_DEFAULT)
        return bool(training) and kwargs.get("p", 0.5) > 0
    return "rrelu" in op_name and kwargs.get("training", False) is True


def _onnx_typed(tensors) -> bool:
    """Dense tensors of dtypes ONNX has (no complex, no sparse layouts)."""
    return all(t.dtype in ot.DTYPE_NAMES and t.layout == torch.strided for t in tensors)


def usable(model, op_name: str = "", kwargs: dict | None = None, args: tuple = ()) -> str:
    """Why a sample cannot be a case ("" when it can)."""
    if random_by_definition(op_name, kwargs or {}, args):
        return "random by definition (dropout, rrelu in training)"
    tensors = model.tensors
    if not _onnx_typed(tensors):
        return "an input dtype or layout ONNX has not"
    if sum(t.numel() for t in tensors) > MAX_ELEMENTS:
        return "inputs too large"
    torch.manual_seed(1)
    first = _outputs(model, [t.clone() for t in tensors])
    if first is None:
        return "an output that is not a tensor"
    if not _onnx_typed(first):
        return "an output dtype or layout ONNX has not"
    for seed in range(2, 2 + RANDOM_TRIES):    # dropout on one element agrees with itself half the time
        torch.manual_seed(seed)
        again = _outputs(model, [t.clone() for t in tensors])
        if again is None or not _same(first, again):
            return "random outputs"
    return ""


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def choose(op, dtype: str, count: int) -> tuple[list[dict], str]:
    """Up to ``count`` usable samples of ``op`` at ``dtype`` (seeded choice) and, when there are
    none, why."""
    sample_seed = seed_for(f"opinfo/{op.name}/{op.variant_test_name}/{dtype}")
    signal.alarm(SECONDS_PER_OP)
    try:
        candidates = ot.samples(op, dtype, sample_seed)
        order = list(range(len(candidates)))
        random.Random(sample_seed).shuffle(order)
        chosen, reasons = [], set()
        for index in order:
            model = ot.OpInfoCall(op.op, candidates[index])
            why = usable(model, op.name, candidates[index].kwargs, tuple(candidates[index].args))
            if why:
                reasons.add(why)
                continue
            chosen.append({"sample": index, "sample_seed": sample_seed, "signature": ot.signature(model.tensors)})
            if len(chosen) == count:
                break
    except _Timeout:
        return [], f"samples take over {SECONDS_PER_OP} s"
    except Exception as exc:           # a sample generator or the op itself fails eagerly here
        return [], f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    finally:
        signal.alarm(0)
    return chosen, ("; ".join(sorted(reasons)) if not chosen else "")


def manifest() -> dict:
    signal.signal(signal.SIGALRM, _alarm)
    cases, excluded = [], {}
    for (name, variant), op in sorted(ot.op_table().items()):
        key = f"{name}.{variant}" if variant else name
        if op.has_nondeterministic_output:
            excluded[key] = "nondeterministic output (OpInfo says so)"
            continue
        supported = {ot.DTYPE_NAMES[d] for d in op.supported_dtypes("cpu") if d in ot.DTYPE_NAMES}
        why_not, before = {}, len(cases)
        for dtype, count in DTYPE_SAMPLES.items():
            if dtype not in supported:
                continue
            chosen, why = choose(op, dtype, count)
            cases += [{"opinfo": name, "variant": variant, "dtype": dtype, **c} for c in chosen]
            if why:
                why_not[dtype] = why
        if len(cases) == before:
            excluded[key] = "; ".join(f"{d}: {w}" for d, w in why_not.items()) or "no dtype ONNX has"
    return {"torch": torch.__version__, "dtype_samples": DTYPE_SAMPLES, "max_elements": MAX_ELEMENTS,
            "cases": cases, "excluded": excluded}


def dumps(data: dict) -> str:
    """JSON with one case (and one excluded OpInfo) per line: a regenerated manifest diffs by case."""
    def rows(items):
        return ",\n".join(f"  {item}" for item in items)

    head = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(data.items())
                       if k not in ("cases", "excluded"))
    cases = rows(json.dumps(c, sort_keys=True) for c in data["cases"])
    excluded = rows(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(data["excluded"].items()))
    return f"{{\n{head},\n \"cases\": [\n{cases}\n ],\n \"excluded\": {{\n{excluded}\n }}\n}}\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    data = manifest()
    args.out.write_text(dumps(data), encoding="utf-8")
    ops = {(c["opinfo"], c["variant"]) for c in data["cases"]}
    print(f"{len(data['cases'])} cases from {len(ops)} OpInfos ({len(data['excluded'])} excluded) -> {args.out} "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
