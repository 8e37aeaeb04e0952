"""Third-party targets and converters arrive through real entry points of an installed
distribution (a dist-info folder on sys.path, read by importlib.metadata), without touching
this repository; a broken plugin is reported, not fatal."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from converters import CONVERTERS, converter_status
from conformance.cli import main
from conformance.targets import TARGETS, get_target, target_status

PLUGIN = '''
import numpy as np
from conformance.targets.base import Target
from converters.base import Converter


class DoublingTarget(Target):
    """A toy backend: runs the model on onnxruntime and returns twice the outputs."""
    precision = "fp32"
    description = "third-party test target"

    def prepare(self, model):
        import onnxruntime as ort
        from conformance.targets.base import model_bytes
        return ort.InferenceSession(model_bytes(model))

    def run(self, session, feeds):
        return [2 * np.asarray(o) for o in session.run(None, feeds)]


class NullConverter(Converter):
    framework = "numpy"
    requires = ("onnx",)
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    (tmp_path / "thirdparty_conformance.py").write_text(PLUGIN)
    dist = tmp_path / "thirdparty_conformance-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-conformance\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""
        [conformance.targets]
        doubling = thirdparty_conformance:DoublingTarget
        broken = thirdparty_conformance:DoesNotExist

        [conformance.converters]
        null-converter = thirdparty_conformance:NullConverter
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    TARGETS.reset()
    CONVERTERS.reset()
    yield
    monkeypatch.undo()
    TARGETS.reset()
    CONVERTERS.reset()
    assert "doubling" not in TARGETS.names()      # uninstalled: gone again


def test_entry_point_target_and_converter_are_discovered(installed_plugin):
    assert "doubling" in TARGETS.names() and "null-converter" in CONVERTERS.names()
    assert target_status("doubling") == (True, "")
    assert converter_status("null-converter") == (True, "")
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    target = get_target("doubling")
    session = target.prepare(helper.make_model(graph))
    (y,) = target.run(session, {"x": np.array([-1, 0, 2], np.float32)})
    np.testing.assert_array_equal(y, [0, 0, 4])


def test_broken_entry_point_is_reported_not_fatal(installed_plugin, capsys):
    ok, why = target_status("broken")
    assert not ok and "thirdparty_conformance:DoesNotExist" in why
    assert main(["targets"]) == 0
    out = capsys.readouterr().out
    assert "doubling" in out and "broken" in out and "UNAVAILABLE" in out
