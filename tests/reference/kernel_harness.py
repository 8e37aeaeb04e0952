"""Call one reference kernel directly, without building a model: the slice of NodeContext the
kernels use, made from a NodeProto (shared by the kernel test files)."""
from __future__ import annotations

import onnx
from onnx import helper, numpy_helper

import conformance.reference.ops  # noqa: F401  (registers every kernel)
from conformance.reference.registry import lookup


class FakeCtx:
    def __init__(self, node, opset=21, output_count=None):
        self.node, self.opset, self.precision = node, opset, "float64"
        self.output_count = output_count or len(node.output)
        self.cache = {}
        self._attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def attr(self, name, default=None):
        v = self._attrs.get(name, default)
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode() for s in v]
        if isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        return v


def run(op_type, inputs, opset=21, n_out=1, **attrs):
    """The kernel's output(s) for ``inputs`` (None: an omitted optional input)."""
    names = [f"i{k}" if v is not None else "" for k, v in enumerate(inputs)]
    node = helper.make_node(op_type, names, [f"o{k}" for k in range(n_out)], **attrs)
    impl = lookup("", op_type, opset)
    assert impl is not None, op_type
    return impl(FakeCtx(node, opset), *inputs)
