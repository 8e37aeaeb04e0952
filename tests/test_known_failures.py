import textwrap

import pytest

from conformance.known_failures import (
    DEFAULT_PATH, KnownFailuresError, expected_status, load_known_failures, parse_known_failures,
)

CASE = "op/conv2d/torch/torch-script/opset17/onnxruntime/stride2-pad1-groups2"

TABLE = textwrap.dedent('''
    [[failure]]
    pattern = "op/conv2d/torch/*groups2"
    converter = "torch-script"
    versions = ">=2.10,<2.14"
    target = "onnxruntime"
    reason = "grouped conv export drops the groups attribute"
    link = "https://example.invalid/issue/1"

    [[failure]]
    pattern = "op/gelu*/tensorflow/*"
    converter = "tf2onnx*"
    reason = "tanh approximation exported as erf"

    [[failure]]
    pattern = "op/stft/*"
    reason = "no ONNX lowering"
    status = "unsupported"
''')


@pytest.fixture
def table():
    return parse_known_failures(TABLE, "table.toml")


def test_match_by_pattern_converter_version_and_target(table):
    entry = table.match(CASE, "torch-script", "2.13.0", "onnxruntime")
    assert entry is not None and entry.index == 1 and "groups" in entry.reason
    assert table.match(CASE, "torch-dynamo", "2.13.0", "onnxruntime") is None      # converter
    assert table.match(CASE.replace("onnxruntime", "openvino"), "torch-script", "2.13.0", "openvino") is None
    assert table.match(CASE.replace("groups2", "groups1"), "torch-script", "2.13.0", "onnxruntime") is None


@pytest.mark.parametrize("version,matches", [
    ("2.10", True), ("2.13.0+cpu", True), ("2.14.0.dev20250101", False), ("2.14.0", False),
    ("2.9.1", False), (None, False), ("", False), ("not-a-version", False),
])
def test_version_ranges(table, version, matches):
    assert (table.match(CASE, "torch-script", version, "onnxruntime") is not None) is matches


def test_prerelease_inside_range_matches(table):
    assert table.match(CASE, "torch-script", "2.13.0rc1", "onnxruntime") is not None


def test_omitted_versions_and_target_match_anything(table):
    gid = "op/gelu_tanh/tensorflow/tf2onnx+optimize/opset17/openvino/default"
    entry = table.match(gid, "tf2onnx+optimize", None, "openvino")
    assert entry is not None and entry.index == 2
    assert table.match(gid, "keras2onnx", "1.0", "openvino") is None


def test_first_matching_entry_wins():
    kf = parse_known_failures(textwrap.dedent('''
        [[failure]]
        pattern = "op/*"
        reason = "broad"
        [[failure]]
        pattern = "op/conv2d/*"
        reason = "narrow"
    '''))
    assert kf.match(CASE, "torch-script", "1", "onnxruntime").reason == "broad"


def test_missing_reason_is_an_error_naming_the_entry():
    text = textwrap.dedent('''
        [[failure]]
        pattern = "op/a/*"
        reason = "fine"
        [[failure]]
        pattern = "op/conv2d/*"
        converter = "tf2onnx"
    ''')
    with pytest.raises(KnownFailuresError) as info:
        parse_known_failures(text, "kf.toml")
    message = str(info.value)
    assert "#2" in message and "op/conv2d/*" in message and "no reason" in message and "kf.toml" in message


@pytest.mark.parametrize("body,needle", [
    ('pattern = "x"\nreason = "r"\nversions = ">>1"', "not a version range"),
    ('pattern = "x"\nreason = "r"\nstatus = "sometimes"', "status"),
    ('pattern = "x"\nreason = "r"\nreson = "typo"', "unknown key"),
    ('reason = "r"', "no pattern"),
    ('pattern = "x"\nreason = "   "', "no reason"),
])
def test_invalid_entries(body, needle):
    with pytest.raises(KnownFailuresError, match=needle):
        parse_known_failures("[[failure]]\n" + body)


def test_invalid_toml_and_missing_explicit_file(tmp_path):
    with pytest.raises(KnownFailuresError, match="not valid TOML"):
        parse_known_failures("[[failure]\n")
    with pytest.raises(KnownFailuresError, match="does not exist"):
        load_known_failures(tmp_path / "nope.toml")


def test_load_from_file(tmp_path):
    path = tmp_path / "kf.toml"
    path.write_text(TABLE)
    kf = load_known_failures(path)
    assert len(kf) == 3 and kf.path == path


def test_repository_table_loads():
    assert DEFAULT_PATH.name == "known_failures.toml" and DEFAULT_PATH.parent.name == "suites"
    kf = load_known_failures()
    for entry in kf:          # every committed entry is valid (loading checked it) and has a reason
        assert entry.reason.strip()


def test_status_mapping(table):
    xfail = table.match(CASE, "torch-script", "2.13.0", "onnxruntime")
    status, message = expected_status("failed", "max_abs=0.3 ...", xfail)
    assert status == "xfailed" and message.startswith("max_abs=0.3") and xfail.reason in message
    assert xfail.link in message
    assert expected_status("error", "boom", xfail)[0] == "xfailed"
    status, message = expected_status("passed", "", xfail)
    assert status == "xpassed" and "remove the entry" in message
    unsupported = table.match("op/stft/torch/torch-script/opset17/onnxruntime/default", "torch-script", "2.13", "onnxruntime")
    assert unsupported.status == "unsupported"
    assert expected_status("failed", "x", unsupported)[0] == "unsupported"
    assert expected_status("error", "x", unsupported)[0] == "unsupported"
    assert expected_status("passed", "", unsupported)[0] == "xpassed"
    assert expected_status("skipped", "s", xfail) == ("skipped", "s")
    assert expected_status("failed", "m", None) == ("failed", "m")


def test_flaky_entry_xfails_a_failure_and_leaves_a_pass_alone():
    from conformance.known_failures import expected_status, parse_known_failures
    table = parse_known_failures('[[failure]]\npattern = "op/x/*"\nstatus = "flaky"\nreason = "uninitialised memory"\n')
    entry = table.match("op/x/paddle/paddle2onnx/opset17/onnxruntime/v", "paddle2onnx", "2.1.0", "onnxruntime")
    assert expected_status("failed", "stats", entry)[0] == "xfailed"
    status, message = expected_status("passed", "", entry)
    assert status == "passed" and "flaky" in message


def test_a_list_of_patterns_shares_one_reason():
    from conformance.known_failures import parse_known_failures
    table = parse_known_failures('[[failure]]\npattern = ["op/amin/*", "op/mean/*/float32-s2"]\n'
                                 'converter = "torch-script"\nreason = "axes on a 0-d tensor"\n')
    entry = table.entries[0]
    assert table.match("op/amin/torch/torch-script/opset17/reference/float32-s1", "torch-script", "2.13", "reference")
    assert table.match("op/mean/torch/torch-script/opset17/reference/float32-s2", "torch-script", "2.13", "reference")
    assert not table.match("op/mean/torch/torch-script/opset17/reference/float32-s1", "torch-script", "2.13",
                           "reference")
    assert entry.patterns == ("op/amin/*", "op/mean/*/float32-s2")
    assert entry.pattern == "op/amin/* | op/mean/*/float32-s2"          # as records and messages show it
    with pytest.raises(Exception, match="list of non-empty globs"):
        parse_known_failures('[[failure]]\npattern = ["op/a/*", ""]\nreason = "r"\n')


def test_target_alternatives_leave_out_a_runtime_that_tolerates_the_bug():
    kf = parse_known_failures(textwrap.dedent('''
        [[failure]]
        pattern = "op/all/torch/*"
        target = "onnxruntime*|reference"
        reason = "invalid model: Not on a float input"
    '''))
    case = "op/all/torch/torch-script/opset17/{}/float32-s19"
    for target in ("onnxruntime", "onnxruntime-node", "reference"):
        assert kf.match(case.format(target), "torch-script", "2.13", target) is not None
    assert kf.match(case.format("openvino"), "torch-script", "2.13", "openvino") is None
