"""The backend corner suite: single-node ONNX models of every op the reference executor
implements, at each opset where the op changed, fed corner inputs (NaN/Inf, empty tensors,
integer extremes, ties, negative and duplicate indices, every representable type), run on
every selected target and judged against the reference executor."""
