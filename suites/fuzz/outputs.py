"""A campaign's folder: ``summary.json``, ``findings.jsonl``, ``state.json`` (what a resume and a
merge read) and ``repro/<sig8>/`` per finding; the summary table; the merge of shard folders.

A repro folder holds the reduced graph (``graph.json``), its source-framework script
(``model.py``), the ONNX model, inputs, the source framework's outputs (``expected.npz``),
``README.txt`` with the one ``conformance check`` command, and for a finding no known-failures
entry explains, ``known_failure.toml``: the entry to verify and file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
from collections import Counter
from pathlib import Path

import numpy as np

from . import known as known_failures
from .campaign import Campaign, Finding, RoundStats
from .evaluate import Failure, graph_id, graph_spec
from .source_code import script

STATE = "state.json"
_BINARY = ("onnx", "inputs", "expected")


class StateError(ValueError):
    """A folder that holds another campaign (other options) or no campaign at all."""


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def finding_row(finding: Finding, repro: Path) -> dict:
    fl = finding.failure
    return {"signature": fl.signature, "framework": finding.framework, "converter": fl.converter,
            "target": fl.target, "component": fl.component, "symptom": fl.symptom, "ops": fl.ops,
            "nodes": len(finding.graph["nodes"]), "known": finding.known, "repro": str(repro),
            "message": fl.message, "graph": graph_id(finding.graph), "origin": list(finding.origin),
            "raw_signature": finding.raw}


def check_command(failure: Failure, folder: Path) -> str:
    return (f"conformance check {folder / 'model.onnx'} --inputs {folder / 'inputs.npz'} "
            f"--expected {folder / 'expected.npz'} --target {failure.target}")


def write_repro(finding: Finding, root: Path, command: str = "conformance fuzz") -> Path:
    fl = finding.failure
    folder = root / fl.signature[:8]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "graph.json").write_text(json.dumps(finding.graph, indent=1) + "\n")
    title = f"{fl.symptom} in {fl.component}: {fl.message}"
    text = f"# {title}\n"
    if fl.onnx:
        (folder / "model.onnx").write_bytes(fl.onnx)
        np.savez(folder / "inputs.npz", **fl.inputs)
        np.savez(folder / "expected.npz", **fl.expected)      # the source framework's outputs: the oracle
        text += check_command(fl, folder) + "\n"
    else:
        text += f"(no ONNX model: the converter {fl.converter} failed on graph.json)\n"
    seed = graph_spec(finding.graph, finding.framework).seed
    (folder / "model.py").write_text(script(finding.graph, finding.framework, title.replace('"""', "'''")[:300], seed))
    text += "python model.py          # the reduced model in its source framework, on inputs.npz\n"
    if finding.known:
        text += f"known failure: {finding.known}\n"
    else:
        (folder / "known_failure.toml").write_text(known_failures.proposed_entry(fl, finding.graph, finding.framework,
                                                                                command))
        text += "new: known_failure.toml is the entry to verify and add to suites/known_failures.toml\n"
    (folder / "README.txt").write_text(text)
    return folder


def _failure_data(failure: Failure) -> dict:
    return {k: v for k, v in dataclasses.asdict(failure).items() if k not in _BINARY}


def _finding_state(finding: Finding) -> dict:
    return {"graph": finding.graph, "failure": _failure_data(finding.failure), "framework": finding.framework,
            "known": finding.known, "origin": list(finding.origin), "raw": finding.raw}


def _finding_from_state(data: dict, out: Path) -> Finding:
    folder = out / "repro" / data["failure"]["signature"][:8]
    binary = {"onnx": None, "inputs": {}, "expected": {}}
    if (folder / "model.onnx").exists():
        binary["onnx"] = (folder / "model.onnx").read_bytes()
        for name in ("inputs", "expected"):
            with np.load(folder / f"{name}.npz") as npz:
                binary[name] = {k: npz[k] for k in npz.files}
    return Finding(data["graph"], Failure(**data["failure"], **binary), data["framework"], data["known"],
                   tuple(data["origin"]), data["raw"])


def summary(campaign: Campaign) -> dict:
    findings = campaign.findings
    per = Counter((f.failure.converter, f.failure.target, "known" if f.known else "new") for f in findings)
    return {**campaign.stats.summary(), "findings": len(findings), "known": sum(bool(f.known) for f in findings),
            "new": sum(not f.known for f in findings),
            "median_reduced_nodes": statistics.median([len(f.graph["nodes"]) for f in findings]) if findings else None,
            "by_converter_target": [{"converter": c, "target": t, "kind": k, "findings": n}
                                    for (c, t, k), n in sorted(per.items())]}


def save(campaign: Campaign, out: str | Path, config: dict, command: str = "conformance fuzz") -> Path:
    """Write (or bring up to date) the campaign's folder: a checkpoint after every round."""
    out = Path(out)
    (out / "repro").mkdir(parents=True, exist_ok=True)
    rows = []
    for finding in campaign.findings:
        folder = out / "repro" / finding.failure.signature[:8]
        if not (folder / "README.txt").exists():
            write_repro(finding, out / "repro", command)
        rows.append(finding_row(finding, folder))
    state = {"config": config, "seed": campaign.seed, "shard": list(campaign.shard),
             "seconds": round(campaign.stats.seconds, 1),
             "rounds": {str(r): s.to_dict() for r, s in sorted(campaign.stats.rounds.items())},
             "origins": {s: list(o) for s, o in sorted(campaign.origins.items())},
             "reduced": sorted(campaign.reduced), "findings": [_finding_state(f) for f in campaign.findings]}
    _write_json(out / STATE, state)
    (out / "findings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _write_json(out / "summary.json", summary(campaign))
    return out


def load_state(out: str | Path) -> dict | None:
    path = Path(out) / STATE
    return json.loads(path.read_text()) if path.exists() else None


def restore(campaign: Campaign, out: str | Path, config: dict) -> bool:
    """Take up the campaign saved in ``out`` (False if there is none). Raises StateError when
    that campaign ran with other options."""
    state = load_state(out)
    if state is None:
        return False
    if state["config"] != config or state["shard"] != list(campaign.shard):
        raise StateError(f"{out} holds a campaign with other options ({_differences(state, config, campaign)}): "
                         f"use another --out, or the same options to resume it")
    campaign.stats.rounds = {int(r): RoundStats.from_dict(s) for r, s in state["rounds"].items()}
    campaign.stats.seconds_before = state["seconds"]
    campaign.origins = {s: tuple(o) for s, o in state["origins"].items()}
    campaign.reduced = set(state["reduced"])
    campaign.findings = [_finding_from_state(f, Path(out)) for f in state["findings"]]
    return True


def _differences(state: dict, config: dict, campaign: Campaign) -> str:
    keys = sorted(k for k in set(config) | set(state["config"]) if config.get(k) != state["config"].get(k))
    parts = [f"{k} {state['config'].get(k)!r} there" for k in keys]
    if state["shard"] != list(campaign.shard):
        parts.append(f"shard {state['shard'][0]}/{state['shard'][1]} there")
    return ", ".join(parts)


def summary_table(campaign: Campaign) -> str:
    """Findings per converter x target and symptom, known and new, as a plain-text table."""
    rows = Counter((f.failure.converter, f.failure.target, f.failure.symptom, bool(f.known))
                   for f in campaign.findings)
    s = campaign.stats.summary()
    lines = [f"{s['models']} models, {s['valid_rate']:.1%} valid, {len(s['onnx_ops'])} ONNX op types, "
             f"{s['models_per_minute']} models/min, {len(campaign.findings)} distinct findings",
             f"{'converter':<16} {'target':<13} {'symptom':<30} {'known':>5} {'new':>5}"]
    for (conv, target, symptom) in sorted({k[:3] for k in rows}):
        lines.append(f"{conv:<16} {target:<13} {symptom:<30} {rows[conv, target, symptom, True]:>5} "
                     f"{rows[conv, target, symptom, False]:>5}")
    return "\n".join(lines)


def merge(dirs: list[str | Path], out: str | Path) -> Campaign:
    """Shard folders of one campaign into one: rounds united, each raw signature kept at its
    earliest origin over the shards, findings deduplicated by signature (earliest origin wins),
    which is what the unsharded campaign finds."""
    states = [(Path(d), load_state(d)) for d in dirs]
    missing = [str(d) for d, s in states if s is None]
    if missing:
        raise StateError(f"no campaign in {', '.join(missing)} (no {STATE})")
    config = states[0][1]["config"]
    if any(s["config"] != config or s["seed"] != states[0][1]["seed"] for _, s in states):
        raise StateError("the folders hold campaigns with different options or seeds: only shards of one merge")
    merged = Campaign(check=lambda graph: None, framework=config.get("framework", "torch"), shard=(1, 1))
    merged.seed = states[0][1]["seed"]
    for d, s in states:
        for r, rs in s["rounds"].items():
            if int(r) not in merged.stats.rounds or rs["complete"]:
                merged.stats.rounds[int(r)] = RoundStats.from_dict(rs)
        for sig, origin in s["origins"].items():
            merged.origins[sig] = min(tuple(origin), merged.origins.get(sig, tuple(origin)))
        merged.reduced |= set(s["reduced"])
    merged.stats.seconds_before = sum(s["seconds"] for _, s in states)
    merged.stats.started = None                # seconds: the shards' total, not this process's
    found = sorted(((tuple(f["origin"]), f, d) for d, s in states for f in s["findings"]), key=lambda x: x[0])
    out = Path(out)
    for origin, data, d in found:
        if origin != merged.origins.get(data["raw"], origin) or \
                any(f.failure.signature == data["failure"]["signature"] for f in merged.findings):
            continue
        merged.findings.append(_finding_from_state(data, d))
        _copy_repro(d, out, data["failure"]["signature"][:8])
    save(merged, out, config)
    return merged


def _copy_repro(src: Path, out: Path, name: str) -> None:
    if src.resolve() != out.resolve() and (src / "repro" / name).exists():
        shutil.copytree(src / "repro" / name, out / "repro" / name, dirs_exist_ok=True)


def write_outputs(campaign: Campaign, out: str | Path) -> Path:
    """The folder of a campaign run without options to record (tests, the library)."""
    return save(campaign, out, {})
