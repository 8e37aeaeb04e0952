"""The matrix as GitHub-flavoured Markdown, for a PR comment or a README."""
from __future__ import annotations

import html

from .model import Matrix, format_error

#: a PR comment has a size limit (65536 characters on GitHub): list this many failing cases
MAX_FAILURES = 60
MAX_MESSAGE = 200
#: wider than this, the table is split into one table per framework
MAX_COLUMNS = 8


def md_text(text: str) -> str:
    """Text safe inside a Markdown table cell: GitHub renders inline HTML, so escape it, and
    pipes and newlines would break the table."""
    text = html.escape(str(text), quote=False)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("`", "\\`")


def _first_line(message: str) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE - 1] + "…"


def _table(matrix: Matrix, columns, with_framework: bool) -> list[str]:
    def title(c):
        text = f"{c.converter} · opset{c.opset} → {c.target}"
        return md_text(f"{c.framework} · {text}" if with_framework else text)

    header = ["case"] + [title(c) for c in columns]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in matrix.rows:
        cells_of_row = [matrix.cell(row, c) for c in columns]
        if all(cell is None for cell in cells_of_row):
            continue
        name = row.name if row.kind == "op" else f"{row.name} ({row.kind})"
        cells = [md_text(name)]
        for cell in cells_of_row:
            if cell is None:
                cells.append("")
                continue
            text = cell.text
            if cell.status in ("failed", "error"):
                text = f"**{text}**"
            worst = format_error(cell.worst_abs)
            cells.append(md_text(text) + (f" <sub>{worst}</sub>" if worst and cell.failing else ""))
        out.append("| " + " | ".join(cells) + " |")
    return out


def render_markdown(matrix: Matrix, title: str = "Conformance matrix") -> str:
    s = matrix.summary
    out = [f"## {md_text(title)}", ""]
    out.append(f"**{s.overall.text}** passed of the cases that ran; {s.records} records"
               + (f" ({s.benchmarks} benchmarks, not in the matrix)" if s.benchmarks else "") + ".")
    out.append("")
    out.append("| status | count |")
    out.append("|---|---:|")
    for status, count in s.status_counts.items():
        out.append(f"| {md_text(status)} | {count} |")
    out.append("")
    for label, rates in (("converter", s.by_converter), ("target", s.by_target)):
        out.append(f"| {label} | pass rate |")
        out.append("|---|---:|")
        for name, rate in rates.items():
            out.append(f"| {md_text(name)} | {rate.text} |")
        out.append("")
    env = "; ".join(f"{md_text(name)} {md_text(', '.join(v))}" for name, v in s.environment.items())
    out.append(f"Environment: {env or 'no versions recorded'}. CPU: {md_text(', '.join(s.cpu))}"
               f" ({md_text(s.cpu_source)}). Opsets: {', '.join(map(str, s.opsets)) or '-'}.")
    out.append("")
    if not matrix.rows:
        out.append("_No cases._")
        return "\n".join(out) + "\n"
    groups = [("", matrix.columns)]
    if len(matrix.columns) > MAX_COLUMNS:
        # one table per framework: a PR comment stays readable when the run is wide
        frameworks = list(dict.fromkeys(c.framework for c in matrix.columns))
        groups = [(fw, [c for c in matrix.columns if c.framework == fw]) for fw in frameworks]
    for framework, columns in groups:
        if framework:
            out.append(f"### {md_text(framework)}")
            out.append("")
        out += _table(matrix, columns, with_framework=not framework)
        out.append("")
    failures = [(c.case_id, c.status, c.message) for cell in matrix.cells.values()
                for c in cell.cases if c.status in ("failed", "error")]
    failures.sort()
    if failures:
        out.append(f"<details><summary>{len(failures)} failing cases</summary>")
        out.append("")
        for case_id, status, message in failures[:MAX_FAILURES]:
            out.append(f"- `{case_id.replace('`', '')}` {md_text(status)}: {md_text(_first_line(message))}")
        if len(failures) > MAX_FAILURES:
            out.append(f"- … and {len(failures) - MAX_FAILURES} more (see matrix.html)")
        out.append("")
        out.append("</details>")
    return "\n".join(out) + "\n"
