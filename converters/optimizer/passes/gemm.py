"""MatMul + Add -> Gemm where legal (2-D operands)."""
from __future__ import annotations

from onnx import TensorProto, helper

from ..graph import DEFAULT_DOMAINS, Graph
from . import UNTIL_STABLE, rewrite_pass

GEMM_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16}


def _broadcasts_to(sc, m, n) -> bool:
    """Unidirectional broadcast of a shape ``sc`` to (M, N): the Add must not grow the result."""
    for cd, od in zip(sc[::-1], (m, n)[::-1]):
        if cd != 1 and (cd is None or cd != od):
            return False
    return True


@rewrite_pass("gemm", at={"core": 60}, max_sweeps=UNTIL_STABLE, prepare=Graph.ensure_shapes, min_opset=7)
def matmul_add_to_gemm(g: Graph) -> bool:
    """MatMul(A, B) + C becomes Gemm(A, B, C) when A and B are 2-D and C broadcasts to (M, N)."""
    for mm in list(g.nodes):
        if mm.op_type != "MatMul" or mm.domain not in DEFAULT_DOMAINS:
            continue
        sa, sb = g.shapes.get(mm.input[0]), g.shapes.get(mm.input[1])
        if sa is None or sb is None or len(sa) != 2 or len(sb) != 2:
            continue
        if g.types.get(mm.input[0]) not in GEMM_TYPES:
            continue
        add = g.only_consumer(mm.output[0])
        if add is None or add.op_type != "Add" or add.domain not in DEFAULT_DOMAINS:
            continue
        c = add.input[1] if add.input[0] == mm.output[0] else add.input[0]
        if c == mm.output[0]:
            continue
        sc = g.shapes.get(c)
        if sc is None or len(sc) > 2 or not _broadcasts_to(sc, sa[0], sb[1]):
            continue
        gemm = helper.make_node("Gemm", [mm.input[0], mm.input[1], c], [add.output[0]], name=mm.name or add.name)
        with g.batch():
            g.replace_node(mm, gemm)
            g.remove_nodes([add])
        return True
    return False
