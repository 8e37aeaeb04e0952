"""One decision of "unsupported" for every stage."""
from conformance.errors import ConversionError, UnsupportedOperator, classify_failure
from conformance.reference.executor import UnsupportedOp


def test_one_classify_failure_for_converters_targets_and_check():
    assert classify_failure(UnsupportedOperator("x")) == "unsupported"
    assert classify_failure(UnsupportedOp([("", "Foo", 23)])) == "unsupported"   # the executor's own type
    assert classify_failure(NotImplementedError("x")) == "unsupported"
    assert classify_failure(RuntimeError("[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : no kernel")) == "unsupported"
    assert classify_failure("Exporting the operator 'aten::foo' to ONNX opset version 17 is not supported") \
        == "unsupported"
    assert classify_failure(ConversionError("shape mismatch in Reshape")) == "error"
    assert classify_failure("crashed", evidence="op acosh is not supported") == "unsupported"
    assert classify_failure(ValueError("bad value")) == "error"
    # onnxruntime's GRU/LSTM on double: a missing kernel, said in its own words
    assert classify_failure(RuntimeError("RUNTIME_EXCEPTION : GRU operator does not support double yet")) == "unsupported"
    # a model the spec forbids is an error, though onnx words it "has unsupported type"
    from conformance.errors import InvalidModel
    assert classify_failure(InvalidModel("not valid ONNX: X typestr: T, has unsupported type: tensor(int64)")) == "error"
