from conformance import results
from conformance.results import CaseResult
from converters.optimizer.suite_compare import main


def rec(converter, status, variant="v"):
    return CaseResult(case_id=f"op/add/torch/{converter}/opset17/onnxruntime/{variant}", kind="op",
                      framework="torch", converter=converter, target="onnxruntime", status=status)


def test_new_failure_through_the_pass_is_reported(tmp_path, capsys):
    results.write(tmp_path / "a.jsonl", [rec("torch-script", "passed"), rec("torch-script", "failed", "w")])
    results.write(tmp_path / "b.jsonl", [rec("torch-script+optimize", "failed"), rec("torch-script+optimize", "passed", "w")])
    assert main([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "WORSE   op/add/torch/torch-script+optimize/opset17/onnxruntime/v" in out and "better" in out


def test_same_outcomes_pass(tmp_path):
    results.write(tmp_path / "a.jsonl", [rec("torch-script", "passed")])
    results.write(tmp_path / "b.jsonl", [rec("torch-script+optimize", "passed")])
    assert main([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 0
    (tmp_path / "c.jsonl").write_text("")
    assert main([str(tmp_path / "a.jsonl"), str(tmp_path / "c.jsonl")]) == 2
