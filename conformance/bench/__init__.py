"""MLPerf-LoadGen-style benchmarking of any registered target, and the reference executor's measures.

* ``settings``: ``TestSettings``, ``RunLog`` and the scenario registry (the package's bottom layer);
* ``sut``: the sample library, ``prepare_session`` (``Target.prepare`` with ``TargetOptions``)
  and the system under test;
* ``scenarios``: SingleStream, MultiStream, Offline, Server (query patterns and validity);
* ``summary``: statistics, VALID/INVALID with reasons, LoadGen-style text, the result record;
* ``loadgen``: ``run_benchmark``, the accuracy check and the interleaved A/B ``run_comparison``;
* ``stats``: percentiles, early stopping, Mann-Whitney U, ``compare_latencies`` (the gate's);
* ``kernels``: one-node kernel micro-benchmarks; ``cli``: ``bench`` and ``bench-kernels``;
* ``reference``: ``bench-reference`` (our executor vs onnxruntime vs onnx.reference);
  ``corpus``: ONNX's node-test corpus through the executor (``python -m conformance.bench.corpus``).

    from conformance.bench.loadgen import TestSettings, run_benchmark
    summary = run_benchmark("model.onnx", "onnxruntime", TestSettings(scenario="Server"))
    print(summary.text())
"""
