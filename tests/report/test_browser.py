"""The HTML matrix in headless Chromium: filter by URL fragment, open a cell, screenshot.

Skipped only where Chromium is not installed (Debian: ``apt-get install -y chromium``).
"""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from conformance.report import write_reports
from conformance.report.screenshot import default_view, dump_dom, find_chromium, main
from conformance.results import write

from .test_model import XSS, sample_records

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return write_reports(sample_records(), tmp_path_factory.mktemp("matrix"))["html"]


def _rows(dom: str) -> dict[str, str]:
    """row name -> its <tr ...> opening tag, from the dumped DOM."""
    return {m.group(2): m.group(0) for m in re.finditer(r'<tr data-row="([^"]+)" data-name="([^"]+)"[^>]*>', dom)}


def _tag(dom: str, tag: str, attr: str, value: str) -> str:
    m = re.search(rf'<{tag}\b[^>]*\b{attr}="{re.escape(value)}"[^>]*>', dom)
    assert m, f"no <{tag} {attr}={value!r}> in the DOM"
    return m.group(0)


def _hidden(opening_tag: str) -> bool:
    m = re.search(r'class="([^"]*)"', opening_tag)
    return bool(m) and "hidden" in m.group(1).split()


def test_filter_and_open_cell_in_browser(page, tmp_path):
    col = "torch/torch-script/opset17/onnxruntime"
    view = f"status=failed&target=onnxruntime&open={quote('op:conv2d@' + col, safe='')}"
    dom = dump_dom(page, view)
    assert 'data-ready="1"' in dom, "the page script did not run"
    rows = _rows(dom)
    # status=failed: conv2d and resnet50 have failing cells, gelu (unsupported/unavailable) is hidden
    assert not _hidden(rows["conv2d"]) and not _hidden(rows["resnet50"])
    assert _hidden(rows["gelu"])
    # target=onnxruntime: the reference column header is hidden
    assert _hidden(_tag(dom, "th", "data-col", "torch/torch-script/opset17/reference"))
    assert not _hidden(_tag(dom, "th", "data-col", col))
    # the opened cell's detail panel lists its failing cases with their messages, as text
    assert not _hidden(_tag(dom, "div", "id", "detail"))
    opened = re.findall(r'<td class="([^"]*\bopen\b[^"]*)" data-col="([^"]+)"', dom)
    assert opened == [("cell st-failed open", col)]
    panel = dom[dom.index('<div id="detail"'):]
    assert "op/conv2d/torch/torch-script/opset17/onnxruntime/v5" in panel
    assert panel.count('<tr class="st-failed">') == 3
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in panel and "<img" not in dom
    assert len(re.findall(r"<script", dom)) == 2


def test_text_filter_and_no_cell_open(page):
    dom = dump_dom(page, "q=gel")
    rows = _rows(dom)
    assert not _hidden(rows["gelu"]) and _hidden(rows["conv2d"])
    assert _hidden(_tag(dom, "div", "id", "detail"))
    assert "1 of 3 rows shown" in dom


def test_screenshot_module_cli(tmp_path):
    write(tmp_path / "r.jsonl", sample_records())
    assert main([str(tmp_path / "r.jsonl"), str(tmp_path / "shot.png"), "--size", "1200x800"]) == 0
    data = (tmp_path / "shot.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 800)


def test_default_view_opens_the_cell_with_most_failures():
    from conformance.report import build_matrix
    assert default_view(build_matrix(sample_records())) == "open=" + quote(
        "op:conv2d@torch/torch-script/opset17/onnxruntime", safe="")


def test_sort_by_column_puts_the_worst_rows_first(tmp_path):
    from .test_model import rec
    records = [rec(op="aaa", variant=f"v{i}", status="passed") for i in range(4)]
    records += [rec(op="mmm", variant=f"v{i}", status="failed" if i < 3 else "passed") for i in range(4)]
    records += [rec(op="zzz", variant=f"v{i}", status="failed" if i < 1 else "passed", max_abs=1.0) for i in range(4)]
    page = write_reports(records, tmp_path)["html"]
    col = "torch/torch-script/opset17/onnxruntime"
    # rendered by name (aaa, mmm, zzz); sorted by the column, the lowest pass rate comes first
    assert list(_rows(dump_dom(page, f"sort={quote(col, safe='')}"))) == ["mmm", "zzz", "aaa"]   # 1/4, 3/4, 4/4
    assert list(_rows(dump_dom(page, "sort=name&dir=desc"))) == ["zzz", "mmm", "aaa"]


def test_failing_filter_takes_errors_and_failures_and_hides_empty_columns(tmp_path):
    from .test_model import rec
    records = [rec(op="ok", status="passed"), rec(op="bad", status="failed"), rec(op="crash", status="error"),
               rec(op="ok", target="reference", status="passed")]
    page = write_reports(records, tmp_path)["html"]
    dom = dump_dom(page, "status=failing")
    rows = _rows(dom)
    assert (_hidden(rows["ok"]), _hidden(rows["bad"]), _hidden(rows["crash"])) == (True, False, False)
    assert _hidden(_tag(dom, "th", "data-col", "torch/torch-script/opset17/reference"))   # nothing failing there
