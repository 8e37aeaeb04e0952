"""The matrix data model: rows, columns, cell counts and text, worst error, summary."""
from __future__ import annotations

import math

from conformance.report.model import build_matrix
from conformance.results import CaseResult

XSS = '<script>alert("x")</script> & </script><img src=x onerror=alert(1)>'


def rec(op="conv2d", fw="torch", conv="torch-script", opset=17, target="onnxruntime", variant="v0",
        status="passed", kind="op", **kw) -> CaseResult:
    name = kw.pop("arch", None) if kind == "arch" else op
    return CaseResult(case_id=f"{kind}/{name}/{fw}/{conv}/opset{opset}/{target}/{variant}", kind=kind,
                      framework=fw, converter=conv, target=target, status=status, opset=opset,
                      op=op if kind != "arch" else None, arch=name if kind == "arch" else None, **kw)


def sample_records() -> list[CaseResult]:
    """conv2d: 12 cases on onnxruntime of which 3 fail (one with markup in its message);
    gelu unsupported by tf2onnx; one arch case; one benchmark."""
    out = []
    for i in range(12):
        status = "failed" if i in (2, 5, 7) else "passed"
        out.append(rec(variant=f"v{i}", status=status, max_abs=(0.5 if i == 5 else 1e-3 * i),
                       max_rel=1e-4 * i, message=XSS if i == 5 else ("too far" if status == "failed" else ""),
                       versions={"framework": "2.13.0", "converter": "2.13.0", "target": "1.32.0",
                                 "onnx": "1.17.0"}))
        out.append(rec(variant=f"v{i}", target="reference", max_abs=1e-7,
                       versions={"framework": "2.13.0", "target": "0.1.0", "onnx": "1.17.0"}))
    out.append(rec(op="gelu", fw="tensorflow", conv="tf2onnx", opset=13, status="unsupported",
                   message="tf2onnx has no Gelu", versions={"framework": "2.16.1", "converter": "1.16.1"}))
    out.append(rec(op="gelu", fw="tensorflow", conv="tf2onnx", opset=13, target="reference",
                   status="unavailable", message="reference missing"))
    out.append(rec(kind="arch", arch="resnet50", max_abs=float("inf"), status="failed", message="inf"))
    out.append(rec(op="matmul", kind="benchmark", extra={"samples": [1.0, 1.1]}))
    return out


def test_rows_columns_and_cell_counts():
    m = build_matrix(sample_records())
    assert [r.key for r in m.rows] == ["op:conv2d", "op:gelu", "arch:resnet50"]
    assert [c.key for c in m.columns] == [
        "tensorflow/tf2onnx/opset13/onnxruntime", "tensorflow/tf2onnx/opset13/reference",
        "torch/torch-script/opset17/onnxruntime", "torch/torch-script/opset17/reference"]
    cell = m.cell("op:conv2d", "torch/torch-script/opset17/onnxruntime")
    assert (cell.passed, cell.ran, cell.failing) == (9, 12, 3)
    assert cell.text == "9/12 ✗3" and cell.status == "failed"
    assert cell.worst_abs == 0.5 and cell.worst_case.endswith("/v5")
    # failing cases are listed first
    assert [c.status for c in cell.cases[:3]] == ["failed"] * 3
    ref = m.cell("op:conv2d", "torch/torch-script/opset17/reference")
    assert ref.text == "12/12" and ref.status == "passed"
    assert m.cell("op:gelu", "tensorflow/tf2onnx/opset13/onnxruntime").text == "unsupported"
    assert m.cell("op:gelu", "tensorflow/tf2onnx/opset13/reference").text == "unavailable"
    assert m.cell("op:gelu", "torch/torch-script/opset17/onnxruntime") is None
    arch = m.cell("arch:resnet50", "torch/torch-script/opset17/onnxruntime")
    assert arch.status == "failed" and math.isinf(arch.worst_abs)


def test_nan_is_the_worst_error():
    m = build_matrix([rec(variant="a", max_abs=1.0), rec(variant="b", max_abs=float("nan")),
                      rec(variant="c", max_abs=2.0)])
    assert math.isnan(m.cell("op:conv2d", "torch/torch-script/opset17/onnxruntime").worst_abs)


def test_summary_rates_status_counts_environment():
    s = build_matrix(sample_records()).summary
    assert s.records == 28 and s.benchmarks == 1
    assert s.status_counts == {"passed": 9 + 12 + 1, "failed": 3 + 1, "unavailable": 1, "unsupported": 1}
    assert (s.by_target["onnxruntime"].passed, s.by_target["onnxruntime"].ran) == (9, 13)
    assert (s.by_target["reference"].passed, s.by_target["reference"].ran) == (12, 12)
    assert s.by_converter["tf2onnx"].ran == 0 and s.by_converter["tf2onnx"].total == 2
    assert s.environment["torch"] == ["2.13.0"] and s.environment["tensorflow"] == ["2.16.1"]
    assert s.environment["onnxruntime"] == ["1.32.0"] and s.environment["reference"] == ["0.1.0"]
    assert s.environment["tf2onnx"] == ["1.16.1"] and s.environment["onnx"] == ["1.17.0"]
    assert s.opsets == [13, 17]
    assert s.cpu_source.startswith("report host") and s.cpu[0]


def test_cpu_from_records_wins():
    s = build_matrix([rec(versions={"cpu": "Xeon 8480"})]).summary
    assert s.cpu == ["Xeon 8480"] and s.cpu_source == "records"
    assert "cpu" not in s.environment


def test_empty_records_make_an_empty_matrix():
    m = build_matrix([])
    assert m.rows == [] and m.columns == [] and m.summary.overall.text.startswith("-")


def test_messages_lose_ansi_colours_and_control_bytes():
    m = build_matrix([rec(status="failed", message="\x1b[96mThis is step 1/3\x1b[0m of\x07 export\nline 2")])
    assert m.cell("op:conv2d", "torch/torch-script/opset17/onnxruntime").cases[0].message == \
        "This is step 1/3 of export\nline 2"


def test_cpu_from_benchmark_environment():
    bench = rec(kind="benchmark", extra={"environment": {"cpu_model": "EPYC 9654", "cpu_count": 16}})
    s = build_matrix([rec(), bench]).summary
    assert s.cpu == ["EPYC 9654 x16"] and s.cpu_source == "records"
