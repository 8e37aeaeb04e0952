"""Greedy generation through a converted decoder (records of ``kind: generation``).

A decoder-only LLM is converted as two models (the prefill and decode cases of
``suites/architectures/specs_generation.py``). A generation case runs them the way an
application does: the prefill on a prompt on the target, then greedy decode steps, each fed the
token picked from the previous step's logits and the KV cache the TARGET returned (never the
source's), and compares the tokens with the source framework's own greedy generation. A
numerical error that stays inside the element-wise tolerance of one step can still flip a token
once the cache has carried it through many steps; this is the check that sees it.

The stages are the runner's, with a loop in the execute stage:

    convert   ``Runner.conversion`` of the prefill and decode specs (cached, shared with the
              architecture cases); the prompt and the source's tokens and logits from the
              generation spec's builder, in the framework's worker (``source_generation``)
    execute   ``greedy`` on the target: 1 prefill + (new_tokens - 1) decode steps, as
              ``generate(max_new_tokens=new_tokens)``
    judge     ``judge_generation`` (registered in ``judge.KIND_JUDGES``): every token equal, and
              the logits of the steps before any divergence within the case's tolerance
    diagnose  the same loop on the second opinion (the reference, or onnxruntime for the
              reference): it agrees with the source -> the target's fault, else the converter's
    record    ``recording.finish`` (known failures, repro bundle of the decode model)

Model contract (by input / output name, ``:0`` suffixes ignored): prefill ``tokens`` ->
``logits`` (batch, seq, vocab), then the cache tensors; decode ``token`` (batch, 1),
``position`` (batch, 1), ``past_*`` -> ``logits`` (batch, 1, vocab), then the cache tensors in
the order of the ``past_*`` inputs.

Figures in the record's ``extra``: ``tokens_total`` (new tokens per row), ``tokens_agree``
(steps whose token agrees in every row), ``first_divergent_step`` (0-based; None when all
agree), ``first_divergent_position`` ({row, position in the sequence, source_token,
target_token}), ``source_margin`` (the source's top-1 minus top-2 logit at that step: a
margin inside the tolerance is a near-tie, not a bug), ``min_source_margin`` (over all steps)
and ``logits_max_abs`` (over the steps before the divergence).
"""
from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .cases import Built, CaseSpec, Conversion
from .comparator import compare_outputs
from .judge import KIND_JUDGES, Verdict, judge
from .recording import finish
from .results import CaseResult, Diagnosis
from .targets.base import prepare_converted
from .tolerance import resolve_tolerance

KIND = "generation"
SOURCE_GENERATION = "conformance.generation:source_generation"

Run = Callable[[dict], list]       # feeds by ONNX input name -> outputs in the model's order


@dataclass
class Generated:
    tokens: np.ndarray             # (batch, new_tokens) int64
    logits: np.ndarray             # (batch, new_tokens, vocab): what each token was picked from


def source_generation(built: Built) -> list[np.ndarray]:
    """In the framework's worker (``call`` request): [prompt, tokens, logits] of the
    generation spec's builder (its ``inputs`` is the prompt, its ``run`` the greedy loop)."""
    prompt = np.asarray(built.inputs[0])
    return [prompt, *[np.asarray(a) for a in built.run(built.model, [prompt])]]


def _bare(name: str) -> str:
    return name.split(":")[0]


def greedy(prefill: Run, decode: Run, prefill_inputs: list[str], decode_inputs: list[str],
           prompt: np.ndarray, new_tokens: int) -> Generated:
    """Greedy generation with two converted models on one target (see the model contract)."""
    tokens_name = next(n for n in prefill_inputs if _bare(n) == "tokens")
    out = prefill({tokens_name: prompt})
    logits, cache = np.asarray(out[0])[:, -1], list(out[1:])
    past = [n for n in decode_inputs if _bare(n).startswith("past")]
    if len(past) != len(cache):
        raise ValueError(f"the prefill returns {len(cache)} cache tensors, the decode model takes {len(past)} "
                         f"({decode_inputs})")
    role = {_bare(n): n for n in decode_inputs}
    tokens, picked = [], []
    for i in range(new_tokens):
        token = np.argmax(logits, axis=-1).astype(np.int64)[:, None]
        tokens.append(token)
        picked.append(logits)
        if i + 1 == new_tokens:
            break
        feeds = dict(zip(past, cache))
        feeds[role["token"]] = token
        if "position" in role:       # an exporter may drop an input the graph does not use
            feeds[role["position"]] = np.full_like(token, prompt.shape[1] + i)
        out = decode(feeds)
        logits, cache = np.asarray(out[0])[:, -1], list(out[1:])
    return Generated(np.concatenate(tokens, 1), np.stack(picked, 1).astype(np.float32))


def _margin(logits: np.ndarray) -> np.ndarray:
    """top-1 minus top-2 logit, per (row, step)."""
    top2 = np.sort(logits.astype(np.float64), axis=-1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def compare_generations(source: Generated, got: Generated, prompt_len: int) -> dict:
    """The record's figures (see the module docstring) for one generation against the source's."""
    src, tok = np.asarray(source.tokens), np.asarray(got.tokens)
    steps = src.shape[1]
    if tok.shape != src.shape:
        return {"tokens_total": steps, "tokens_agree": 0, "first_divergent_step": 0,
                "first_divergent_position": None, "shape": [list(tok.shape), list(src.shape)]}
    same = np.all(src == tok, axis=0)
    margins = _margin(source.logits)
    figures = {"tokens_total": steps, "tokens_agree": int(same.sum()), "first_divergent_step": None,
               "first_divergent_position": None, "source_margin": None,
               "min_source_margin": float(margins.min()) if margins.size else None}
    upto = steps
    if not same.all():
        step = int(np.argmin(same))
        row = int(np.argmax(src[:, step] != tok[:, step]))
        upto = step
        figures.update(first_divergent_step=step, source_margin=float(margins[row, step]),
                       first_divergent_position={"row": row, "position": prompt_len + step,
                                                 "source_token": int(src[row, step]),
                                                 "target_token": int(tok[row, step])})
    # logits of the steps fed identical tokens (the divergent step's included: same inputs)
    upto = min(steps, upto + 1)
    diff = np.abs(got.logits[:, :upto].astype(np.float64) - source.logits[:, :upto])
    figures["logits_max_abs"] = float(diff.max()) if diff.size else 0.0
    return figures


def judge_generation(spec: CaseSpec, conv: Conversion, outputs, precision: str = "fp32") -> Verdict:
    """``conv.input_sets[0]`` is [prompt], ``conv.golden_sets[0]`` the source's [tokens, logits],
    ``outputs[0]`` the target's."""
    if not outputs or not conv.golden_sets or len(outputs[0]) < 2 or len(conv.golden_sets[0]) < 2:
        return Verdict("failed", "nothing to judge: no tokens from the target or the source")
    prompt_len = np.asarray(conv.input_sets[0][0]).shape[1]
    source, got = Generated(*conv.golden_sets[0][:2]), Generated(*outputs[0][:2])
    figures = compare_generations(source, got, prompt_len)
    total, agree = figures["tokens_total"], figures["tokens_agree"]
    tol = resolve_tolerance(np.float32, None, spec.tolerance)
    lines = [f"greedy generation: {agree} of {total} new tokens agree with the source framework"]
    if figures["first_divergent_step"] is not None:
        at = figures["first_divergent_position"]
        lines.append(f"first divergence at step {figures['first_divergent_step']}" + (
            f" (row {at['row']}, sequence position {at['position']}): source token {at['source_token']}, "
            f"target token {at['target_token']}; the source's top-1/top-2 logit margin there is "
            f"{figures['source_margin']:.3g}" if at else ": the token arrays differ in shape"))
    upto = total if figures["first_divergent_step"] is None else figures["first_divergent_step"] + 1
    cmp = compare_outputs([got.logits[:, :upto]], [np.asarray(source.logits)[:, :upto]], [tol], names=["logits"]) \
        if np.shape(got.logits)[:2] == np.shape(source.logits)[:2] else None
    logits_ok = cmp is not None and cmp.passed
    if not logits_ok:
        lines.append("logits of the steps before the divergence out of tolerance:\n"
                     + (cmp.message if cmp is not None else f"shape {np.shape(got.logits)} != {np.shape(source.logits)}"))
    passed = agree == total and figures["first_divergent_step"] is None and logits_ok
    return Verdict("passed" if passed else "failed", "\n".join(lines),
                   max_abs=figures.get("logits_max_abs"), max_rel=getattr(cmp, "max_rel", None),
                   mismatch=getattr(cmp, "mismatch", None), rtol=tol.rtol, atol=tol.atol, extra=figures)


KIND_JUDGES[KIND] = judge_generation


# --------------------------------------------------------------------------------------------- runner side
def _run_on(runner, target, key: str, conv: Conversion) -> Run:
    """The target's run of one converted model, its session prepared once per conversion."""
    skey = (key, target.name)
    if skey not in runner.sessions.prepared:
        runner.sessions.prepared.put(skey, prepare_converted(target, conv.artifact, conv.format))
    session = runner.sessions.prepared[skey]
    return lambda feeds: target.run(session, feeds)


def generate_on(runner, target, prefill: tuple[Conversion, str], decode: tuple[Conversion, str],
                prompt: np.ndarray, new_tokens: int) -> Generated:
    (pconv, pkey), (dconv, dkey) = prefill, decode
    return greedy(_run_on(runner, target, pkey, pconv), _run_on(runner, target, dkey, dconv),
                  pconv.input_names, dconv.input_names, prompt, new_tokens)


def run_generation(runner, case) -> CaseResult:
    """The record of one generation case (``case``: a ``runner.CaseRun``); never raises."""
    try:
        return _run_generation(runner, case)
    except Exception as exc:
        from .runner import _blank_record
        return dataclasses.replace(_blank_record(case), status="error", message=f"harness error: {type(exc).__name__}: {exc}",
                                   traceback=traceback.format_exc()[-4000:])


def _source(runner, case) -> list[np.ndarray]:
    placement = runner.conversions.placement(case.spec, case.converter)
    worker = runner.pool.get(case.spec.framework, None, placement.interpreter)
    return worker.request("call", case.spec.to_dict(), SOURCE_GENERATION, {}, timeout=runner.options.timeout)


def _run_generation(runner, case) -> CaseResult:
    not_run = runner.unavailable(case)
    if not_run is not None:
        return not_run
    target = runner.target(case.target)
    spec, params = case.spec, case.spec.params
    convs = {part: runner.conversion(CaseSpec.from_dict(params[part]), case.converter, case.opset)
             for part in ("prefill", "decode")}
    failed = next((c for c, _ in convs.values() if c.status != "ok"), None)
    decode_conv, decode_key = convs["decode"]
    record = runner._converted_record(case, target, failed or decode_conv)
    if failed is not None:
        part = "prefill" if failed is convs["prefill"][0] else "decode"
        record = dataclasses.replace(record, status="unsupported" if failed.status == "unsupported" else "error",
                                     message=f"the {part} model did not convert: {failed.message}",
                                     diagnosis=Diagnosis(attribution="converter"),
                                     traceback=failed.versions.get("traceback"))
        return finish(record, failed, case.names, runner.known_failures(), runner.options.repro_dir)
    prompt, tokens, logits = _source(runner, case)
    new_tokens = int(tokens.shape[1])
    # the judged data: the prompt in, the source's generation as the golden, the decode model
    conv = dataclasses.replace(decode_conv, input_names=["prompt"], output_names=["tokens", "logits"],
                               input_sets=[[prompt]], golden_sets=[[tokens, logits]], expected=None,
                               expected_shapes=None)
    record.onnx_ops = sorted(set(_ops(convs["prefill"][0])) | set(_ops(decode_conv)))
    t0 = time.perf_counter()
    try:
        got = generate_on(runner, target, convs["prefill"], convs["decode"], prompt, new_tokens)
    except Exception as exc:
        record.seconds["run"] = round(time.perf_counter() - t0, 4)
        record = dataclasses.replace(record, status="error", message=f"target {case.target} failed to run the "
                                     f"generation: {type(exc).__name__}: {str(exc)[:2000]}")
        record = _run_failure_diagnosed(runner, case, record, convs, prompt, new_tokens)
        return finish(record, conv, case.names, runner.known_failures(), runner.options.repro_dir)
    record.seconds["run"] = round(time.perf_counter() - t0, 4)
    verdict = judge(spec, conv, [[got.tokens, got.logits]], target.precision)
    record = dataclasses.replace(record, **dataclasses.asdict(verdict), target_precision=target.precision)
    if verdict.status == "failed":
        record = _diagnosed(runner, case, record, convs, conv, prompt, new_tokens)
    return finish(record, conv, case.names, runner.known_failures(), runner.options.repro_dir)


def _ops(conv: Conversion) -> list[str]:
    from .execution import onnx_op_types
    return onnx_op_types(conv.onnx_bytes) if conv.onnx_bytes else []


def _diagnosed(runner, case, record: CaseResult, convs, conv: Conversion, prompt, new_tokens) -> CaseResult:
    """Whose fault: the same generation on the second opinion (the reference executor, or
    onnxruntime when the target is the reference)."""
    other = "onnxruntime" if case.target == "reference" else "reference"
    try:
        ok, why = runner.target(other).available()
        if not ok:
            raise RuntimeError(why)
        theirs = generate_on(runner, runner.target(other), convs["prefill"], convs["decode"], prompt, new_tokens)
    except Exception as exc:
        return dataclasses.replace(record, diagnosis=Diagnosis(
            attribution="unknown (no second opinion available)", attribution_error=f"{other}: {type(exc).__name__}: {exc}"))
    # the second opinion is held to the same verdict: the tokens and the logits
    verdict = judge_generation(case.spec, conv, [[theirs.tokens, theirs.logits]])
    if verdict.status == "passed":
        who, note = "target", (f"attributed to the TARGET {case.target}: on the {other} target the generation "
                               f"agrees with the source framework, on {case.target} it does not.")
    else:
        who, note = "converter", (f"attributed to the CONVERTER {case.converter}: on the {other} target it "
                                  f"disagrees too ({verdict.message.splitlines()[0]}).")
    return dataclasses.replace(record, message=note + "\n" + record.message, diagnosis=Diagnosis(attribution=who))


def _run_failure_diagnosed(runner, case, record: CaseResult, convs, prompt, new_tokens) -> CaseResult:
    """The target could not run the models: the converter's fault when one of them fails the
    ONNX checker (a lenient second opinion that runs an invalid model proves nothing), else the
    target's when the second opinion runs the generation, else the converter's. Models in
    another format than ONNX have neither check nor second runtime here: not attributed."""
    import onnx
    other_format = next((conv.format for conv, _ in convs.values() if conv.onnx_bytes is None), None)
    if other_format is not None:
        return dataclasses.replace(record, message=(
            f"not attributed: the models are not ONNX (format {other_format}); no second runtime of them here\n"
            + record.message))
    for part, (conv, _) in convs.items():
        try:
            onnx.checker.check_model(onnx.load_from_string(conv.onnx_bytes))
        except Exception as exc:
            note = (f"attributed to the CONVERTER {case.converter}: its {part} model fails the ONNX checker: "
                    f"{str(exc).splitlines()[0][:300]}")
            return dataclasses.replace(record, message=note + "\n" + record.message,
                                       diagnosis=Diagnosis(attribution="converter"))
    other = "onnxruntime" if case.target == "reference" else "reference"
    try:
        generate_on(runner, runner.target(other), convs["prefill"], convs["decode"], prompt, new_tokens)
    except Exception:
        return dataclasses.replace(record, diagnosis=Diagnosis(attribution="converter"), message=(
            f"attributed to the CONVERTER {case.converter}: the {other} target cannot run it either.\n" + record.message))
    return dataclasses.replace(record, diagnosis=Diagnosis(attribution="target"), message=(
        f"attributed to the TARGET {case.target}: the {other} target runs the generation.\n" + record.message))
