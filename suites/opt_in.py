"""Source frameworks whose cases a pytest run collects only when it asks for them.

MindSpore's environment is 2.7 GB and its cases double the torch operator run, so a plain
``pytest suites`` (scripts/bootstrap.sh) neither collects them nor builds that environment. A
run asks for a framework by naming it: ``--framework mindspore``, ``-m mindspore``,
``-k mindspore`` or a ``--case`` glob with it (``'op/*/mindspore/*'``). The ``conformance run``
command (no pytest config) does not collect them.
"""
from __future__ import annotations

OPT_IN_FRAMEWORKS = ("mindspore",)


def asked_for(config, framework: str) -> bool:
    """Whether a pytest ``config`` names ``framework`` (not only as ``not <framework>``)."""
    if config is None:
        return False
    named = [f.strip() for value in (config.getoption("--framework") or ()) for f in str(value).split(",")]
    if framework in named:
        return True
    texts = [config.getoption("keyword") or "", config.getoption("markexpr") or "",
             *(config.getoption("--case") or ())]
    return any(framework in text and f"not {framework}" not in text for text in texts)
