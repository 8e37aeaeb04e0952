"""MatMul + Add -> Gemm where legal (2-D operands)."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..graph import DEFAULT_DOMAINS, Graph
from . import optimizer_pass

GEMM_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16}


@optimizer_pass("gemm", "core")
def matmul_add_to_gemm(g: Graph) -> None:
    """MatMul(A, B) + C becomes Gemm(A, B, C) when A and B are 2-D and C broadcasts to (M, N)."""
    if g.opset < 7:
        return
    if not g.shapes:
        g.infer()
    changed = True
    while changed:
        changed = False
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
            m, n = sa[0], sb[1]
            if sc is None or len(sc) > 2:
                continue
            # unidirectional broadcast of C to (M, N), and the Add must not grow the result
            ok = True
            for cd, od in zip(sc[::-1], (m, n)[::-1]):
                if cd != 1 and (cd is None or cd != od):
                    ok = False
            if not ok:
                continue
            gemm = helper.make_node("Gemm", [mm.input[0], mm.input[1], c], [add.output[0]], name=mm.name or add.name)
            idx = g.nodes.index(mm)
            g.nodes[idx] = gemm
            g.remove_nodes([add])
            changed = True
            break
