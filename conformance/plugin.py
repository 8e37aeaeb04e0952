"""pytest plugin (entry point ``pytest11: conformance``). Hooks and fixtures only."""
from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "model-converter conformance")
    group.addoption("--target", action="append", default=None, metavar="NAME[,NAME]",
                    help="target(s) to run cases on; repeatable, comma-separated (default: reference,onnxruntime)")
    group.addoption("--framework", action="append", default=None, metavar="NAME[,NAME]",
                    help="source framework(s): torch, tensorflow, paddle (default: all)")
    group.addoption("--converter", action="append", default=None, metavar="NAME[,NAME]",
                    help="converter(s), e.g. torch-script, tf2onnx+optimize (default: all for each framework)")
    group.addoption("--opset", action="append", default=None, metavar="N[,N]",
                    help="ONNX opset(s); cases run for each (default: 17)")
    group.addoption("--results", default=None, metavar="PATH",
                    help="write one JSON Lines record per case x target to PATH (xdist workers merged)")
    group.addoption("--conformance-timeout", type=float, default=300.0, metavar="SECONDS",
                    help="kill a build/conversion that runs longer than this (default 300)")
