"""An ``isolated`` target (OpenVINO, whose compiler segfaults on some models) is served from a
worker process of its own: it computes what it computes in-process, and a crash of that
process costs the case that was running, not the session."""
from __future__ import annotations

import os
import signal

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.runner import Runner
from conformance.target_host import EnvTarget
from conformance.targets import get_target, target_status

pytestmark = pytest.mark.skipif(not target_status("openvino")[0], reason="openvino is not installed")


def _model() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    graph = helper.make_graph([helper.make_node("Tanh", ["x"], ["t"]), helper.make_node("Neg", ["t"], ["y"])],
                              "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.fixture()
def runner():
    r = Runner()
    yield r
    r.close()


def test_openvino_runs_in_a_worker_and_agrees_with_in_process(runner):
    target = runner.target("openvino")
    assert isinstance(target, EnvTarget) and "worker process of its own" in target.description
    assert target.version() == get_target("openvino").version()
    feeds = {"x": np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)}
    (out,) = target.run(target.prepare(_model()), feeds)
    in_process = get_target("openvino")
    (want,) = in_process.run(in_process.prepare(onnx.load_from_string(_model())), feeds)
    np.testing.assert_array_equal(out, want)
    assert runner.target("reference") is not None and not isinstance(runner.target("reference"), EnvTarget)


def test_a_crash_costs_one_request_and_the_worker_comes_back(runner):
    target = runner.target("openvino")
    session = target.prepare(_model())
    os.kill(target.worker.pid, signal.SIGSEGV)          # as compile_model does on the models that crash it
    # the request meets the dead worker, or (when the death was noticed first) its restarted
    # successor, which has lost the session: either way that one request fails, and says why
    with pytest.raises(Exception, match="(?i)crash|died|signal|exit|restarted"):
        target.run(session, {"x": np.zeros((2, 3), np.float32)})
    (out,) = target.run(target.prepare(_model()), {"x": np.zeros((2, 3), np.float32)})   # restarted
    np.testing.assert_array_equal(out, np.zeros((2, 3), np.float32))
