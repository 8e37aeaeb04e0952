"""HTML, Markdown and JSON renderings of one matrix; everything from a record is escaped."""
from __future__ import annotations

import json
import re

from conformance.report import build_matrix, write_reports
from conformance.report.html import render_html
from conformance.report.markdown import render_markdown

from .test_model import XSS, rec, sample_records


def test_write_reports_writes_three_files(tmp_path):
    paths = write_reports(sample_records(), tmp_path / "out")
    assert set(paths) == {"html", "md", "json"}
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    data = json.loads(paths["json"].read_text())
    row = next(r for r in data["rows"] if r["key"] == "op:conv2d")
    cell = row["cells"]["torch/torch-script/opset17/onnxruntime"]
    assert cell["text"] == "9/12 ✗3" and cell["worst_abs"] == 0.5
    assert [c["status"] for c in cell["cases"]].count("failed") == 3
    assert data["summary"]["by_target"]["reference"]["fraction"] == 1.0
    # the arch case's inf survives as a string (JSON has no Infinity)
    arch = next(r for r in data["rows"] if r["key"] == "arch:resnet50")
    assert arch["cells"]["torch/torch-script/opset17/onnxruntime"]["worst_abs"] == "inf"


def test_html_escapes_markup_from_records():
    records = sample_records() + [rec(op='<b onmouseover="x()">op</b>', fw="torch", conv="<i>conv</i>",
                                      target="t&<script>", message=XSS, status="failed",
                                      versions={"onnx": "<script>v</script>"})]
    page = render_html(build_matrix(records), title="<script>title</script>")
    # our two script elements (the JSON data and the code) and no other
    assert len(re.findall(r"<script", page, flags=re.I)) == 2
    assert "<img" not in page and "<b " not in page and "<i>" not in page
    assert XSS not in page and "</script><img" not in page
    assert "\\u003cscript\\u003ealert" in page          # message escaped inside the data blob
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;op&lt;/b&gt;" in page
    assert "&lt;script&gt;v&lt;/script&gt;" in page     # version string in the environment table
    assert "<title>&lt;script&gt;title&lt;/script&gt;</title>" in page


def test_html_is_self_contained():
    page = render_html(build_matrix(sample_records()))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, flags=re.I)
    assert "@import" not in page and "<link" not in page
    assert 'id="f-framework"' in page and 'id="f-status"' in page and 'id="f-target"' in page


def test_markdown_table_and_escaping():
    md = render_markdown(build_matrix(sample_records()))
    lines = md.splitlines()
    header = next(l for l in lines if l.startswith("| case |"))
    assert header.count("|") == 4 + 2          # 4 columns + the row label
    conv = next(l for l in lines if l.startswith("| conv2d |"))
    assert "**9/12 ✗3**" in conv and "5.0e-01" in conv and "12/12" in conv
    gelu = next(l for l in lines if l.startswith("| gelu |"))
    assert "unsupported" in gelu and "unavailable" in gelu
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "| onnxruntime | 69.2% (9/13) |" in md
    assert "3 failing cases" not in md and "4 failing cases" in md


def test_markdown_pipes_in_names_do_not_break_the_table():
    md = render_markdown(build_matrix([rec(op="a|b", message="x|y", status="failed")]))
    row = next(l for l in md.splitlines() if l.startswith("| a"))
    assert row.startswith("| a\\|b |") and row.count(" | ") == 1


def test_markdown_splits_a_wide_matrix_per_framework():
    records = [rec(fw=fw, conv=f"{fw}-conv", target=t, opset=o)
               for fw in ("torch", "tensorflow") for t in ("onnxruntime", "reference", "openvino") for o in (13, 17)]
    records.append(rec(op="lstm", fw="tensorflow", conv="tensorflow-conv", status="failed"))
    md = render_markdown(build_matrix(records))
    assert "### tensorflow" in md and "### torch" in md
    torch_part = md[md.index("### torch"):]
    tf_part = md[md.index("### tensorflow"):md.index("### torch")]
    header = next(l for l in torch_part.splitlines() if l.startswith("| case |"))
    assert header.count("|") == 6 + 2 and "torch ·" not in header      # framework named once, above
    assert "| lstm |" in tf_part and "| lstm |" not in torch_part        # rows without cells left out
