"""The matrix as one self-contained HTML page: inline CSS and plain JS, no external assets.

Every string that comes from a record (op names, ids, messages, versions) goes through
``html.escape``; the per-cell case lists travel as a JSON blob in which ``<``, ``>`` and ``&``
are ``\\u``-escaped, and the script puts them on the page with ``textContent`` only, so a
message that contains markup is shown, never run.

The page reads its state from the URL fragment
(``#framework=torch&status=failed&sort=COL&dir=desc&open=ROW@COL``, ``sort=name`` for the first column)
and writes it back when the filters change: a link reproduces a view, and a headless browser
can be pointed at one (the browser test and ``screenshot.py`` rely on this).
"""
from __future__ import annotations

import html
import json
import math

from .model import Matrix, format_error

STATUS_FILTER = ("failing", "failed", "error", "passed", "xfailed", "unsupported", "unavailable", "skipped")


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def script_json(data) -> str:
    """JSON that is safe inside a <script> element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em;color:#222}
h1{font-size:1.4em;margin:0 0 .4em}
.summary{display:flex;flex-wrap:wrap;gap:1.5em;margin-bottom:1em;align-items:flex-start}
.summary table{border-collapse:collapse}
.summary td,.summary th{padding:1px 8px;border-bottom:1px solid #eee;text-align:left}
.summary .num{text-align:right}
#filters{margin:.6em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
#matrix{border-collapse:collapse}
#matrix th,#matrix td{border:1px solid #ccc;padding:3px 6px}
#matrix thead th{background:#f4f4f4;font-weight:normal;font-size:12px;vertical-align:bottom;cursor:pointer;user-select:none}
#matrix thead th b{font-size:13px}
#matrix tbody th{text-align:left;font-weight:600;white-space:nowrap;background:#fafafa}
.kind{font-weight:normal;color:#777;font-size:11px;margin-left:4px}
td.cell{text-align:center;white-space:nowrap;cursor:pointer;min-width:4.5em}
td.cell small{display:block;color:#555;font-size:10px}
.st-passed{background:#d9f2d9}.st-failed{background:#f8c8c8}.st-error{background:#f9d9a8}
.st-xfailed{background:#f3efc2}.st-unsupported{background:#e2e2e2;color:#555}
.st-unavailable{background:#f0f0f0;color:#888}.st-skipped{background:#f6f6f6;color:#888}
td.dim{opacity:.25}
td.open{outline:3px solid #246;outline-offset:-3px}
.hidden{display:none}
#detail{position:fixed;right:0;top:0;bottom:0;width:42%;overflow:auto;background:#fff;
  border-left:2px solid #246;padding:1em;box-shadow:-4px 0 12px rgba(0,0,0,.15)}
#detail table{border-collapse:collapse;width:100%;table-layout:fixed}
#detail th:nth-child(1){width:34%}#detail th:nth-child(2){width:10%}#detail th:nth-child(3){width:10%}
#detail td,#detail th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top;font-size:12px}
#detail td.msg{white-space:pre-wrap;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
#detail td.case-id{overflow-wrap:anywhere;min-width:12em}
#detail-close{float:right}
.sorted-asc::after{content:" ▲"}.sorted-desc::after{content:" ▼"}
"""

JS = r"""
(function(){
  var cases = JSON.parse(document.getElementById('cases').textContent);
  var table = document.getElementById('matrix');
  var tbody = table.tBodies[0];
  var filters = ['framework','converter','target','status'];
  function sel(name){ return document.getElementById('f-' + name); }

  function readState(){
    var text = (location.hash || '').replace(/^#/, '');
    if (!text && location.search) text = location.search.replace(/^\?/, '');
    var state = {};
    text.split('&').forEach(function(part){
      if (!part) return;
      var i = part.indexOf('=');
      var k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      state[k] = i < 0 ? '' : decodeURIComponent(part.slice(i + 1).replace(/\+/g, ' '));
    });
    return state;
  }
  function writeState(){
    var parts = [];
    filters.forEach(function(f){ if (sel(f).value) parts.push(f + '=' + encodeURIComponent(sel(f).value)); });
    var q = document.getElementById('f-text').value;
    if (q) parts.push('q=' + encodeURIComponent(q));
    var sorted = table.tHead.querySelector('.sorted-asc, .sorted-desc');
    if (sorted){
      parts.push('sort=' + encodeURIComponent(sorted.dataset.col || 'name'));
      if (sorted.classList.contains('sorted-desc')) parts.push('dir=desc');
    }
    var open = document.querySelector('td.open');
    if (open) parts.push('open=' + encodeURIComponent(open.parentNode.dataset.row + '@' + open.dataset.col));
    if (history.replaceState) history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname);
  }

  function apply(){
    var want = {}; filters.forEach(function(f){ want[f] = sel(f).value; });
    var q = document.getElementById('f-text').value.toLowerCase();
    var heads = table.tHead.rows[0].cells;
    var visibleCols = {};
    for (var i = 1; i < heads.length; i++){
      var h = heads[i], show = true;
      ['framework','converter','target'].forEach(function(f){ if (want[f] && h.dataset[f] !== want[f]) show = false; });
      h.classList.toggle('hidden', !show);
      if (show) visibleCols[h.dataset.col] = true;
    }
    var shownRows = 0, used = {};
    function matches(status){
      if (!status) return false;
      if (!want.status) return true;
      if (want.status === 'failing') return status === 'failed' || status === 'error';
      return status === want.status;
    }
    Array.prototype.forEach.call(tbody.rows, function(tr){
      var any = false, hits = [];
      Array.prototype.forEach.call(tr.cells, function(td){
        if (!td.dataset.col) return;
        var match = matches(td.dataset.status);
        td.classList.toggle('dim', !!td.dataset.status && !match);
        if (visibleCols[td.dataset.col] && match){ any = true; hits.push(td.dataset.col); }
      });
      var nameOk = !q || tr.dataset.name.toLowerCase().indexOf(q) >= 0;
      var show = any && nameOk;
      tr.classList.toggle('hidden', !show);
      if (show){ shownRows++; hits.forEach(function(c){ used[c] = true; }); }
    });
    // a column with no matching cell in any shown row is hidden too
    for (var j = 1; j < heads.length; j++){
      if (!used[heads[j].dataset.col]) heads[j].classList.add('hidden');
    }
    Array.prototype.forEach.call(tbody.rows, function(tr){
      Array.prototype.forEach.call(tr.cells, function(td){
        if (td.dataset.col) td.classList.toggle('hidden', !used[td.dataset.col]);
      });
    });
    document.getElementById('shown').textContent = shownRows + ' of ' + tbody.rows.length + ' rows shown';
    table.dataset.filtered = JSON.stringify(want);
  }

  function closeDetail(){
    var open = document.querySelector('td.open');
    if (open) open.classList.remove('open');
    document.getElementById('detail').classList.add('hidden');
  }
  function openCell(td){
    closeDetail();
    var tr = td.parentNode, key = tr.dataset.row + '@' + td.dataset.col;
    var list = cases[key] || [];
    td.classList.add('open');
    var panel = document.getElementById('detail');
    panel.classList.remove('hidden');
    panel.dataset.cell = key;
    document.getElementById('detail-title').textContent = tr.dataset.name + ' \u00b7 ' + td.dataset.col;
    document.getElementById('detail-counts').textContent = td.dataset.counts;
    var body = document.getElementById('detail-cases').tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    list.forEach(function(c){
      var row = body.insertRow();
      row.className = 'st-' + c[1];
      [c[0], c[1], c[3], c[2]].forEach(function(v, j){
        var cell = row.insertCell();
        cell.textContent = v === null ? '' : String(v);
        if (j === 0) cell.className = 'case-id';
        if (j === 3) cell.className = 'msg';
      });
    });
  }

  function sortBy(th, asc){
    if (asc === undefined) asc = !th.classList.contains('sorted-asc');
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.classList.remove('sorted-asc', 'sorted-desc'); });
    th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
    var col = th.dataset.col, rows = Array.prototype.slice.call(tbody.rows);
    function value(tr){
      if (!col) return [tr.dataset.name.toLowerCase(), 0];
      var td = tr.querySelector('td[data-col="' + CSS.escape(col) + '"]');
      if (!td || !td.dataset.status) return [2, 0];
      return [parseFloat(td.dataset.frac), -parseFloat(td.dataset.worst || '0')];
    }
    rows.sort(function(a, b){
      var x = value(a), y = value(b), r = 0;
      for (var i = 0; i < 2 && !r; i++) r = x[i] < y[i] ? -1 : x[i] > y[i] ? 1 : 0;
      return asc ? r : -r;
    });
    rows.forEach(function(tr){ tbody.appendChild(tr); });
  }

  filters.forEach(function(f){ sel(f).addEventListener('change', function(){ apply(); writeState(); }); });
  document.getElementById('f-text').addEventListener('input', function(){ apply(); writeState(); });
  document.getElementById('detail-close').addEventListener('click', function(){ closeDetail(); writeState(); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
    th.addEventListener('click', function(){ sortBy(th); writeState(); });
  });
  tbody.addEventListener('click', function(ev){
    var td = ev.target.closest('td.cell');
    if (td && td.dataset.status){ openCell(td); writeState(); }
  });

  var state = readState();
  filters.forEach(function(f){
    if (state[f] === undefined) return;
    var s = sel(f);
    if (Array.prototype.some.call(s.options, function(o){ return o.value === state[f]; })) s.value = state[f];
  });
  if (state.q) document.getElementById('f-text').value = state.q;
  apply();
  if (state.sort){
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
      if ((th.dataset.col || 'name') === state.sort) sortBy(th, state.dir !== 'desc');
    });
  }
  if (state.open){
    var at = state.open.lastIndexOf('@');
    var rowKey = state.open.slice(0, at), colKey = state.open.slice(at + 1);
    Array.prototype.forEach.call(tbody.rows, function(tr){
      if (tr.dataset.row !== rowKey) return;
      Array.prototype.forEach.call(tr.cells, function(td){ if (td.dataset.col === colKey && td.dataset.status) openCell(td); });
    });
  }
  document.body.dataset.ready = '1';
})();
"""


def _options(name: str, values, labels: dict | None = None) -> str:
    labels = labels or {}
    opts = "".join(f'<option value="{esc(v)}">{esc(labels.get(v, v))}</option>' for v in values)
    return (f'<label>{esc(name)} <select id="f-{esc(name)}"><option value="">all</option>{opts}'
            f'</select></label>')


def _rate_table(title: str, rates: dict) -> str:
    rows = "".join(f'<tr><td>{esc(name)}</td><td class="num">{esc(rate.text)}</td></tr>'
                   for name, rate in rates.items())
    return f'<table><tr><th>{esc(title)}</th><th class="num">pass rate</th></tr>{rows}</table>'


def _summary(matrix: Matrix) -> str:
    s = matrix.summary
    counts = "".join(f'<tr><td class="st-{esc(k)}">{esc(k)}</td><td class="num">{v}</td></tr>'
                     for k, v in s.status_counts.items())
    env = "".join(f"<tr><td>{esc(name)}</td><td>{esc(', '.join(v))}</td></tr>"
                  for name, v in s.environment.items())
    env += f"<tr><td>cpu</td><td>{esc(', '.join(s.cpu))} <small>({esc(s.cpu_source)})</small></td></tr>"
    env += f"<tr><td>opsets</td><td>{esc(', '.join(map(str, s.opsets)) or '-')}</td></tr>"
    bench = f" ({s.benchmarks} benchmarks, not in the matrix)" if s.benchmarks else ""
    return (f'<p id="overall"><b>{esc(s.overall.text)}</b> passed of the cases that ran; '
            f'{s.records} records{esc(bench)}.</p>'
            '<div class="summary">'
            f'<table id="status-counts"><tr><th>status</th><th class="num">count</th></tr>{counts}</table>'
            f'{_rate_table("converter", s.by_converter)}{_rate_table("target", s.by_target)}'
            f'{_rate_table("framework", s.by_framework)}'
            f'<table id="environment"><tr><th>environment</th><th></th></tr>{env}</table></div>')


def render_html(matrix: Matrix, title: str = "Conformance matrix") -> str:
    cols = matrix.columns
    head = ['<th data-sort="name">case</th>']
    for c in cols:
        head.append(
            f'<th data-col="{esc(c.key)}" data-framework="{esc(c.framework)}" '
            f'data-converter="{esc(c.converter)}" data-target="{esc(c.target)}" '
            f'data-opset="{esc(c.opset)}" title="{esc(c.key)}">{esc(c.framework)}<br>{esc(c.converter)}'
            f'<br>opset {esc(c.opset)}<br><b>{esc(c.target)}</b></th>')
    body = []
    case_data = {}
    for row in matrix.rows:
        kind = "" if row.kind == "op" else f'<span class="kind">{esc(row.kind)}</span>'
        tds = [f"<th>{esc(row.name)}{kind}</th>"]
        for c in cols:
            cell = matrix.cell(row, c)
            if cell is None:
                tds.append(f'<td class="cell" data-col="{esc(c.key)}"></td>')
                continue
            frac = cell.passed / cell.ran if cell.ran else -1
            worst = format_error(cell.worst_abs)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(cell.counts.items()))
            # NaN and Inf sort as the worst error of all
            worst_attr = ("" if cell.worst_abs is None else
                          repr(cell.worst_abs) if math.isfinite(cell.worst_abs) else "Infinity")
            tds.append(
                f'<td class="cell st-{esc(cell.status)}" data-col="{esc(c.key)}" data-status="{esc(cell.status)}" '
                f'data-frac="{frac:.6f}" data-worst="{worst_attr}" data-counts="{esc(counts)}" '
                f'title="worst {esc(worst or "-")} in {esc(cell.worst_case or "-")}">'
                f'{esc(cell.text)}' + (f"<small>{esc(worst)}</small>" if worst else "") + "</td>")
            case_data[f"{row.key}@{c.key}"] = [
                [line.case_id, line.status, line.message, format_error(line.max_abs) or None]
                for line in cell.cases]
        body.append(f'<tr data-row="{esc(row.key)}" data-name="{esc(row.name)}" data-kind="{esc(row.kind)}">'
                    + "".join(tds) + "</tr>")
    filters = "".join((
        _options("framework", sorted({c.framework for c in cols})),
        _options("converter", sorted({c.converter for c in cols})),
        _options("target", sorted({c.target for c in cols})),
        _options("status", STATUS_FILTER, {"failing": "failing (failed or error)"}),
    ))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
{_summary(matrix)}
<div id="filters">{filters}<label>case <input id="f-text" type="search" placeholder="filter by name"></label>
<span id="shown"></span></div>
<table id="matrix"><thead><tr>{"".join(head)}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<div id="detail" class="hidden"><button id="detail-close" type="button">close</button>
<h2 id="detail-title"></h2><p id="detail-counts"></p>
<table id="detail-cases"><thead><tr><th>case</th><th>status</th><th>max abs</th><th>message</th></tr></thead>
<tbody></tbody></table></div>
<script type="application/json" id="cases">{script_json(case_data)}</script>
<script>{JS}</script>
</body></html>
"""
