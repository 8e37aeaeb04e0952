"""Benchmarks of any registered target on MLPerf's own LoadGen, and the reference executor's measures.

* ``settings``: our ``BenchSettings``, LoadGen's scenarios with our small defaults, and their
  mapping onto LoadGen's ``TestSettings`` (with a ``user.conf`` on top);
* ``sut``: the sample libraries (LoadGen's QSL), ``prepare_session`` and the SUT LoadGen drives;
* ``digits``: scikit-learn's digits as a labelled QSL, and the accuracy script over
  ``mlperf_log_accuracy.json``;
* ``logs``: LoadGen's log folder and its detail log read back; ``summary``: our verdict on top;
* ``loadgen``: ``run_benchmark`` and the interleaved A/B ``run_comparison``;
* ``stats``: the noise-aware verdict of the comparison and the gate (Mann-Whitney U, scipy);
* ``kernels``: one-node kernel micro-benchmarks; ``cli``: ``bench`` and ``bench-kernels``;
* ``reference``: ``bench-reference`` (our executor vs onnxruntime vs onnx.reference);
  ``corpus``: ONNX's node-test corpus through the executor (``python -m conformance.bench.corpus``).

    from conformance.bench.loadgen import BenchSettings, run_benchmark
    summary = run_benchmark("model.onnx", "onnxruntime", BenchSettings(scenario="Server"))
    print(summary.text())
"""
