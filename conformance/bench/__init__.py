"""MLPerf-LoadGen-style benchmarking of any target's session.

* ``loadgen``: ``TestSettings``, the sample library, the system under test, ``run_benchmark``
  and the interleaved A/B ``run_comparison``;
* ``scenarios``: SingleStream, MultiStream, Offline, Server (query patterns and validity);
* ``summary``: statistics, VALID/INVALID with reasons, LoadGen-style text, the result record;
* ``stats``: percentiles, early stopping, Mann-Whitney U, ``compare_latencies`` (the gate's);
* ``kernels``: one-node kernel micro-benchmarks; ``cli``: ``bench`` and ``bench-kernels``.

    from conformance.bench.loadgen import TestSettings, run_benchmark
    summary = run_benchmark("model.onnx", "onnxruntime", TestSettings(scenario="Server"))
    print(summary.text())
"""
