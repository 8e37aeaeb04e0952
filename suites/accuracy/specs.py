"""The accuracy cases: one digits classifier per framework and architecture, converted by each
of the framework's converters and the precision chains after it (``CHAINS``)."""
from __future__ import annotations

from conformance.accuracy import HIGH_ACCURACY_MARK, KIND
from conformance.cases import CaseSpec
from suites.accuracy.digits import digits_file

#: the chain steps every converter is run with (the plain conversion first); ``+prune:0.5``
#: removes half the channels without fine-tuning: MLPs lose more than 1% (known failures)
CHAINS = ("", "+optimize", "+fp16", "+int8", "+prune:0.5")
#: builders per framework ("module:function" run in its worker) and its converters
FRAMEWORKS = {
    "torch": ("suites.accuracy.torch_models:build_digits", ("torch-script", "torch-dynamo")),
    "tensorflow": ("suites.accuracy.keras_models:build_digits", ("tf2onnx",)),
    "paddle": ("suites.accuracy.paddle_models:build_digits", ("paddle2onnx",)),
}
ARCHS = ("mlp", "cnn", "rnn")
EPOCHS = 10


def accuracy_cases(chains=CHAINS, high_accuracy: bool = False) -> list[CaseSpec]:
    """The specs; ``chains`` None leaves the converters to the caller's selection."""
    marks = (HIGH_ACCURACY_MARK,) if high_accuracy else ()
    data = digits_file()
    if data is None:
        return []                   # scikit-learn is not installed: no data set, no case
    specs = []
    for framework, (builder, converters) in FRAMEWORKS.items():
        chained = None if chains is None else tuple(c + step for c in converters for step in chains)
        for arch in ARCHS:
            specs.append(CaseSpec(kind=KIND, name=f"digits_{arch}", framework=framework, builder=builder,
                                  params={"arch": arch, "epochs": EPOCHS, "data": data}, variant="digits", arch=arch,
                                  converters=chained, marks=marks))
    specs.append(CaseSpec(kind=KIND, name="digits_distilled", framework="torch",
                          builder="suites.accuracy.torch_models:build_distilled",
                          params={"epochs": EPOCHS, "hidden": 16, "data": data}, variant="digits", arch="distilled",
                          converters=None if chains is None else tuple(c + step for c in FRAMEWORKS["torch"][1]
                                                                      for step in chains), marks=marks))
    return specs


def test_split():
    """The digits test split, (images NCHW float32 in [0, 1], labels), for ``conformance compare``."""
    from suites.accuracy.digits import digits_split
    data = digits_file()
    if data is None:
        raise FileNotFoundError("scikit-learn's digits.csv.gz is not installed (pip install scikit-learn)")
    split = digits_split(data)
    return split.x_test, split.y_test
