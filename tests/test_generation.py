"""The generation check (conformance.generation): the greedy loop, its figures and its verdict,
on a toy decoder written in numpy (no framework, no converter)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from conformance.cases import CaseSpec, Conversion
from conformance.generation import (Generated, compare_generations, greedy, judge_generation, source_generation)
from conformance.judge import judge
from conformance.results import CaseResult

VOCAB, PROMPT, NEW = 16, 5, 32
RNG = np.random.default_rng(0)
EMBED = RNG.standard_normal((VOCAB, 8)).astype(np.float32)
HEAD = RNG.standard_normal((8, VOCAB)).astype(np.float32)
PREFILL_IN = ["tokens"]
DECODE_IN = ["token", "position", "past_key_0"]
SPEC = CaseSpec(kind="generation", name="decoder", framework="torch", builder="x:y")


def _logits(cache):
    """A toy LM: logits from the last token, the mean of every token seen so far (the cache)
    and the length, so that it does not settle on one token."""
    return np.tanh(2.0 * cache[:, -1] + cache.mean(axis=1) + np.sin(cache.shape[1])) @ HEAD * 4.0


def prefill(feeds):
    cache = EMBED[feeds["tokens"]]                                   # (batch, seq, 8)
    return [_logits(cache)[:, None, :].repeat(feeds["tokens"].shape[1], 1), cache]


def decode(feeds):
    cache = np.concatenate([feeds["past_key_0"], EMBED[feeds["token"]]], axis=1)
    return [_logits(cache)[:, None, :], cache]


def wrong_from(step: int, how: str):
    """A decode model that goes wrong from the decode call that makes token ``step``."""
    def run(feeds):
        logits, cache = decode(feeds)
        if feeds["past_key_0"].shape[1] - PROMPT + 1 >= step:
            if how == "bias":
                logits = logits.copy()
                logits[..., 0] += 100.0                               # always picks token 0
            elif how == "cache":
                cache = cache[:, 1:]                                  # drops the oldest cache entry
        return [logits, cache]
    return run


PROMPTS = np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], np.int64)


def _source() -> Generated:
    return greedy(prefill, decode, PREFILL_IN, DECODE_IN, PROMPTS, NEW)


def _conv(source: Generated) -> Conversion:
    return Conversion(status="ok", input_names=["prompt"], output_names=["tokens", "logits"],
                      input_sets=[[PROMPTS]], golden_sets=[[source.tokens, source.logits]])


def test_greedy_loop_feeds_its_own_cache_and_picks_argmax():
    seen = []

    def spy(feeds):
        seen.append((feeds["past_key_0"].shape[1], int(feeds["position"][0, 0])))
        return decode(feeds)

    got = greedy(prefill, spy, PREFILL_IN, DECODE_IN, PROMPTS, NEW)
    assert got.tokens.shape == (2, NEW) and got.tokens.dtype == np.int64 and got.logits.shape == (2, NEW, VOCAB)
    # 1 prefill + NEW - 1 decode steps, each a cache one longer, the position the past length
    assert seen == [(PROMPT + i, PROMPT + i) for i in range(NEW - 1)]
    np.testing.assert_array_equal(got.tokens, got.logits.argmax(-1))
    assert len(set(got.tokens[0].tolist())) > 3        # the toy does not collapse to one token


def test_identical_generation_passes_with_32_of_32():
    source = _source()
    verdict = judge_generation(SPEC, _conv(source), [[source.tokens, source.logits]])
    assert verdict.status == "passed", verdict.message
    assert verdict.extra["tokens_total"] == NEW and verdict.extra["tokens_agree"] == NEW
    assert verdict.extra["first_divergent_step"] is None and verdict.extra["first_divergent_position"] is None


@pytest.mark.parametrize("how", ["bias", "cache"])
def test_planted_wrong_decode_model_is_caught_with_its_first_divergent_step(how):
    source = _source()
    step = 9
    got = greedy(prefill, wrong_from(step, how), PREFILL_IN, DECODE_IN, PROMPTS, NEW)
    verdict = judge(SPEC, _conv(source), [[got.tokens, got.logits]])       # dispatched by kind
    assert verdict.status == "failed"
    figures = verdict.extra
    assert figures["tokens_agree"] < NEW
    first = figures["first_divergent_step"]
    assert first is not None and first >= step if how == "cache" else first == step
    np.testing.assert_array_equal(got.tokens[:, :first], source.tokens[:, :first])
    at = figures["first_divergent_position"]
    assert at["position"] == PROMPT + first
    assert source.tokens[at["row"], first] == at["source_token"] != at["target_token"] == got.tokens[at["row"], first]
    assert f"{figures['tokens_agree']} of {NEW}" in verdict.message and f"step {first}" in verdict.message


def test_same_tokens_with_logits_out_of_tolerance_fail():
    source = _source()
    verdict = judge_generation(SPEC, _conv(source), [[source.tokens, source.logits + 1e-3]])
    assert verdict.status == "failed" and verdict.extra["tokens_agree"] == NEW
    assert "out of tolerance" in verdict.message and verdict.max_abs == pytest.approx(1e-3, rel=1e-2)


def test_too_few_tokens_fail():
    source = _source()
    figures = compare_generations(source, Generated(source.tokens[:, :10], source.logits[:, :10]), PROMPT)
    assert figures["tokens_agree"] == 0 and figures["first_divergent_step"] == 0
    assert judge_generation(SPEC, _conv(source), [[source.tokens[:, :10], source.logits[:, :10]]]).status == "failed"


def test_a_cache_count_mismatch_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="cache tensors"):
        greedy(prefill, decode, PREFILL_IN, DECODE_IN + ["past_value_0"], PROMPTS, NEW)


def test_source_generation_returns_prompt_tokens_logits():
    from conformance.cases import Built
    built = Built(model=None, inputs=[PROMPTS],
                  run=lambda model, inputs: list(dataclasses.astuple(greedy(prefill, decode, PREFILL_IN, DECODE_IN,
                                                                             inputs[0], NEW))))
    prompt, tokens, logits = source_generation(built)
    np.testing.assert_array_equal(prompt, PROMPTS)
    np.testing.assert_array_equal(tokens, _source().tokens)


def test_generation_record_keeps_its_figures():
    source = _source()
    got = greedy(prefill, wrong_from(4, "bias"), PREFILL_IN, DECODE_IN, PROMPTS, NEW)
    verdict = judge_generation(SPEC, _conv(source), [[got.tokens, got.logits]])
    record = CaseResult(case_id="generation/decoder/torch/torch-script/opset17/reference/toy", kind="generation",
                        framework="torch", converter="torch-script", target="reference", status=verdict.status,
                        extra=verdict.extra)
    back = CaseResult.from_dict(json.loads(record.to_json()))
    assert back.extra["first_divergent_step"] == 4 and back.extra["tokens_total"] == NEW


def test_planted_wrong_decode_model_end_to_end_through_the_runner(tmp_path):
    """Through the runner, the torch worker, torch-script and onnxruntime: the right pair of
    models generates the source's 32 tokens; a decode model with other weights (LayerNorm eps
    0.1 instead of 1e-5) in its place is caught with its first divergent step."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from conformance.generation import run_generation
    from conformance.runner import CaseRun, Runner, RunnerOptions
    from suites.architectures.specs_generation import GENERATION_CASES, decode_spec

    spec = next(s for s in GENERATION_CASES if s.variant == "gpt2-greedy32" and s.opset == 17)
    wrong = dataclasses.replace(decode_spec("gpt2"), params={"decoder": "gpt2", "config": {"eps": 0.1}})
    planted = dataclasses.replace(spec, params={**spec.params, "decode": wrong.to_dict()})
    runner = Runner(RunnerOptions(use_cache=False, known_failures_path=str(tmp_path / "none.toml")))
    (tmp_path / "none.toml").write_text("")
    try:
        right = run_generation(runner, CaseRun(spec, "torch-script", 17, "onnxruntime"))
        bad = run_generation(runner, CaseRun(planted, "torch-script", 17, "onnxruntime"))
    finally:
        runner.close()
    assert right.kind == "generation" and right.status == "passed", right.message
    assert right.extra["tokens_agree"] == right.extra["tokens_total"] == 32
    assert bad.status == "failed" and bad.extra["tokens_agree"] < 32
    assert bad.extra["first_divergent_step"] is not None and bad.extra["first_divergent_position"]["position"] >= 7
    assert bad.diagnosis.attribution == "converter"     # the reference runs the wrong model the same way


def test_generation_runs_a_non_onnx_conversion_on_its_target(tmp_path):
    """A converter writing OpenVINO IR (ov-torch): the prefill and decode models are prepared
    from their package, not as ONNX bytes (which a non-ONNX conversion has none of: 'expected
    str, bytes or os.PathLike object, not NoneType' before), in a fresh runner where no arch
    case prepared them first."""
    pytest.importorskip("torch")
    pytest.importorskip("openvino")
    from conformance.generation import run_generation
    from conformance.runner import CaseRun, Runner, RunnerOptions
    from suites.architectures.specs_generation import GENERATION_CASES

    spec = next(s for s in GENERATION_CASES if s.variant == "gpt2-greedy32" and s.opset == 17)
    runner = Runner(RunnerOptions(cache_dir=str(tmp_path / "cache")))
    try:
        record = run_generation(runner, CaseRun(spec, "ov-torch", 17, "openvino"))
    finally:
        runner.close()
    assert record.status == "passed", record.message
    assert record.extra["tokens_agree"] == 32


def test_a_failed_generation_of_models_in_another_format_is_not_blamed_on_the_onnx_checker():
    from conformance.generation import _run_failure_diagnosed
    record = CaseResult(case_id="generation/decoder/torch/executorch/opset17/executorch/toy", kind="generation",
                        framework="torch", converter="executorch", target="executorch", status="error",
                        message="target executorch failed to run the model")
    pte = Conversion(status="ok", artifact=b"pte", format="pte")
    got = _run_failure_diagnosed(None, None, record, {"prefill": (pte, None), "decode": (pte, None)}, None, 0)
    assert got.diagnosis is None or got.diagnosis.attribution in (None, "")
    assert got.message.startswith("not attributed: the models are not ONNX (format pte)")
