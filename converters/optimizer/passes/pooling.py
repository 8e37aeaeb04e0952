"""Global pooling followed by a squeeze becomes one keepdims=0 reduction."""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..graph import DEFAULT_DOMAINS, Graph, get_attr
from . import UNTIL_STABLE, rewrite_pass

REDUCTION = {"GlobalAveragePool": "ReduceMean", "GlobalMaxPool": "ReduceMax"}


def _drops_spatial(g: Graph, node, rank: int) -> bool:
    """True when ``node`` maps (N, C, 1, ..., 1) to (N, C)."""
    if node.op_type == "Flatten":
        return get_attr(node, "axis", 1) == 1
    if node.op_type == "Squeeze":
        axes = get_attr(node, "axes") if g.opset < 13 else (g.const(node.input[1]) if len(node.input) > 1 else None)
        if axes is None:
            return False
        return sorted(int(a) % rank for a in np.asarray(axes).reshape(-1)) == list(range(2, rank))
    if node.op_type == "Reshape":
        so = g.static_shape(node.output[0])
        si = g.shapes.get(node.input[0])
        return so is not None and si is not None and len(so) == 2 and si[1] == so[1] and si[0] == so[0]
    return False


def _reduction(g: Graph, pool, rank: int, out: str):
    """The keepdims=0 ReduceMean/ReduceMax over the spatial axes of ``pool``'s input, writing ``out``."""
    axes = list(range(2, rank))
    op = REDUCTION[pool.op_type]
    if g.opset >= 18:
        axes_name = g.add_init(np.array(axes, dtype=np.int64), pool.output[0] + "_axes")
        return helper.make_node(op, [pool.input[0], axes_name], [out], keepdims=0, name=pool.name)
    return helper.make_node(op, [pool.input[0]], [out], axes=axes, keepdims=0, name=pool.name)


@rewrite_pass("fuse-global-pool", at={"core": 70}, max_sweeps=UNTIL_STABLE, prepare=Graph.ensure_shapes,
              min_opset=1)
def fuse_global_pool_squeeze(g: Graph) -> bool:
    """GlobalAveragePool/GlobalMaxPool then Squeeze/Flatten/Reshape to (N, C) -> ReduceMean/ReduceMax."""
    for pool in list(g.nodes):
        if pool.op_type not in REDUCTION or pool.domain not in DEFAULT_DOMAINS:
            continue
        rank = g.rank(pool.input[0])
        if rank is None or rank < 3:
            continue
        nxt = g.only_consumer(pool.output[0])
        if nxt is None or nxt.domain not in DEFAULT_DOMAINS or nxt.input[0] != pool.output[0]:
            continue
        if not _drops_spatial(g, nxt, rank):
            continue
        with g.batch():
            g.replace_node(pool, _reduction(g, pool, rank, nxt.output[0]))
            g.remove_nodes([nxt])
        return True
    return False
