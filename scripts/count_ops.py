"""Count the distinct framework operators a results file exercised, per framework and converter.

    python scripts/count_ops.py RESULTS.jsonl [RESULTS.jsonl ...]

An operator counts as *ran* for a converter when at least one of its ``op`` cases got a status
other than unsupported, skipped or unavailable on any target (failed, error and xfailed cases
ran: the converter was given the op and did not refuse it), and as *passed* when one passed.
torch cases come from two sources that name operators differently, the hand table
(``suites/operators/specs.py``: ``conv2d`` calls ``torch.nn.Conv2d``) and PyTorch's OpInfo
database (``nn.functional.conv2d``, ``max.reduction_with_dim``); both are reduced to the torch
function they call, so one function counts once however many tables, variants or samples reach
it. The reduction is conservative (it may merge two functions, never split one):

* an OpInfo variant counts as its function (``max.binary`` and ``max.reduction_with_dim``: ``max``);
* ``torch.nn.functional.X``, ``torch.X`` and the method ``Tensor.X`` are one function ``X``;
* a reflected operator (``__radd__``) is the operator it reflects (``add``);
* a hand-table entry that builds a module or a helper counts as the function it names
  (``HAND_TABLE_FUNCTIONS``).
TensorFlow and Paddle have only the hand table: their operators are its call targets.
"""
from __future__ import annotations

import argparse
import functools
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.results import read as read_results  # noqa: E402
from suites.operators.opinfo import manifest, op_name  # noqa: E402
from suites.operators.specs import TABLE  # noqa: E402

NOT_RAN = {"unsupported", "skipped", "unavailable"}
OPINFO_VARIANT = re.compile(r"^(float16|float32|float64|int8|int16|int32|int64|uint8|bool)-s\d+$")
# hand-table torch entries whose call is a module or a builder helper: the torch function it calls
HAND_TABLE_FUNCTIONS = {
    "prelu": "prelu", "linear": "linear", "depthwise_conv2d": "conv2d", "batch_norm1d": "batch_norm",
    "batch_norm2d": "batch_norm", "batch_norm3d": "batch_norm", "instance_norm1d": "instance_norm",
    "instance_norm2d": "instance_norm", "global_avg_pool2d": "adaptive_avg_pool2d",
    "global_max_pool2d": "adaptive_max_pool2d", "slice": "__getitem__", "scatter_nd": "index_put",
    "cast": "to", "interpolate_nearest": "interpolate", "interpolate_bilinear": "interpolate",
    "interpolate_bicubic": "interpolate", "interpolate_linear1d": "interpolate",
    "interpolate_trilinear": "interpolate", "interpolate_area": "interpolate", "upsample_nearest3d": "interpolate",
    "rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU", "rnn_cell": "nn.RNNCell", "lstm_cell": "nn.LSTMCell",
    "gru_cell": "nn.GRUCell", "multihead_attention": "nn.MultiheadAttention",
}
_TORCH_PREFIXES = ("torch.nn.functional.", "torch.Tensor.", "torch.", "nn.functional.", "Tensor.")


def torch_function(name: str) -> str:
    """``name`` (an OpInfo name without its variant, or a torch call target) as one function key."""
    for prefix in _TORCH_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    reflected = re.fullmatch(r"__r(\w+)__", name)
    if reflected and reflected.group(1) != "shift":
        name = {"div": "div", "truediv": "div", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
                "mod": "remainder"}.get(reflected.group(1), reflected.group(1))
    return name


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    return {spec.name: spec for spec in TABLE}


def hand_table_function(op: str, framework: str) -> str | None:
    """The function a hand-table entry calls in ``framework`` (None: no such entry)."""
    spec = _table().get(op)
    call = spec.call(framework) if spec else None
    if call is None:
        return None
    if framework != "torch":
        return call.target if call.kind in ("fn", "method") else op
    if op in HAND_TABLE_FUNCTIONS:
        return torch_function(HAND_TABLE_FUNCTIONS[op])
    return torch_function(call.target if call.kind in ("fn", "method") else op)


@functools.lru_cache(maxsize=1)
def opinfo_names() -> dict[str, str]:
    """Case op name (``max.reduction_with_dim``) -> OpInfo name (``max``), from the manifest."""
    return {op_name(entry): entry["opinfo"] for entry in manifest()["cases"]}


def operator_of(record) -> tuple[str, str] | None:
    """(source, function) of an op record: source is ``opinfo`` or ``table``; None: neither."""
    variant = record.case_id.rsplit("/", 1)[-1]
    if record.framework == "torch" and OPINFO_VARIANT.match(variant) and record.op in opinfo_names():
        return "opinfo", torch_function(opinfo_names()[record.op])
    function = hand_table_function(record.op, record.framework)
    return ("table", function) if function else None


def count(records) -> dict:
    """{(framework, converter): {"ran": {source: set}, "passed": {source: set}}}."""
    out: dict = defaultdict(lambda: {"ran": defaultdict(set), "passed": defaultdict(set)})
    for record in records:
        if record.kind != "op" or record.status in NOT_RAN:
            continue
        found = operator_of(record)
        if found is None:
            continue
        source, function = found
        entry = out[(record.framework, record.converter)]
        entry["ran"][source].add(function)
        if record.status == "passed":
            entry["passed"][source].add(function)
    return out


def report(counts: dict) -> list[str]:
    lines = ["framework  converter         ran = table + opinfo - both   passed"]
    for (framework, converter), entry in sorted(counts.items()):
        ran, passed = entry["ran"], entry["passed"]
        union = ran["table"] | ran["opinfo"]
        parts = f"{len(ran['table'])} + {len(ran['opinfo'])} - {len(ran['table'] & ran['opinfo'])}"
        lines.append(f"{framework:<10} {converter:<16} {len(union):>4} = {parts:<17} {len(passed['table'] | passed['opinfo']):>6}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="JSON Lines results files (merged)")
    args = parser.parse_args(argv)
    records = []
    for path in args.results:
        if not path.is_file():
            print(f"count_ops: no results file {path}", file=sys.stderr)
            return 2
        records += read_results(path)
    print("\n".join(report(count(records))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
