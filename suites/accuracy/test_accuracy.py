"""Accuracy on scikit-learn's digits (marker ``accuracy``): small classifiers trained in each
framework's worker, converted by every converter and precision chain, judged by MLPerf's rule
(``conformance.accuracy``).

    pytest suites/accuracy -m accuracy --target reference,onnxruntime
    pytest suites/accuracy --converter torch-script+int8      # one chain
"""
from conformance.selection import Asked
from suites.accuracy.specs import CHAINS, accuracy_cases


def conformance_cases(asked: Asked):
    # the precision chains run by default; --converter names exactly what runs instead
    return accuracy_cases(chains=None if asked.converters else CHAINS)


def test_accuracy(case, conformance_runner):
    conformance_runner.check(case)
