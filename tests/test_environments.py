"""Named environments: declarations, keys, the build's fast path, error paths (with a fake
runner) and one real build of a tiny environment (numpy only) with uv from its cache."""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import pytest

from conformance import environments as envs
from conformance.environments import build as envbuild
from conformance.errors import ConformanceError

REPO_ROOT = Path(__file__).resolve().parents[1]


# --- declarations ------------------------------------------------------------------------------

def test_spec_from_the_command_line():
    env = envs.parse_environment_spec('ort131="onnxruntime==1.31.1 onnx numpy<2"')
    assert env.name == "ort131"
    assert env.requirements == ("onnxruntime==1.31.1", "onnx", "numpy<2")
    assert env.origin == "command line"
    quoted = envs.parse_environment_spec("""x=numpy 'onnx; python_version >= "3.8"'""")
    assert quoted.requirements == ("numpy", 'onnx; python_version >= "3.8"')


@pytest.mark.parametrize("text, says", [
    ("numpy==2.4.6", "bad environment spec"),
    ("x=", "no requirements"),
    ("bad/name=numpy", "bad environment name"),
    ("x=numpy>>1", "bad requirement 'numpy>>1'"),
])
def test_bad_spec_is_one_line(text, says):
    with pytest.raises(envs.EnvironmentSpecError) as info:
        envs.parse_environment_spec(text)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_repository_declares_the_builtins():
    declared = envs.load_environments()
    assert {"paddle", "tf216", "ort131"} <= set(declared)
    assert "paddlepaddle==3.3.1" in declared["paddle"].requirements
    assert "numpy==1.26.4" in declared["tf216"].requirements
    assert envs.environment_for_framework("paddle", declared).name == "paddle"
    assert envs.environment_for_framework("torch", declared) is None
    for env in declared.values():
        assert {"numpy", "onnx"} <= set(env.requirement_names())


def test_toml_format_and_overrides(tmp_path):
    path = tmp_path / "environments.toml"
    path.write_text('[environments.a]\nrequirements = ["numpy"]\nframeworks = ["paddle"]\n'
                    'description = "d"\nconstraints = ["numpy<3"]\nimports = ["numpy"]\n')
    loaded = envs.load_environments(path, extra=["b=onnx numpy"])
    assert loaded["a"] == envs.Environment("a", ("numpy",), ("paddle",), "d", ("numpy<3",), ("numpy",))
    assert loaded["b"].imports == envs.DEFAULT_IMPORTS
    replaced = envs.load_environments(path, extra=["a=numpy==2.4.6"])
    assert replaced["a"].requirements == ("numpy==2.4.6",)


@pytest.mark.parametrize("text, says", [
    ('[environments.a]\nrequirement = ["numpy"]\n', "unknown key(s) requirement"),
    ('[environments.a]\nframeworks = ["x"]\n', "no requirements"),
    ('[environments.a]\nrequirements = "numpy"\n', "must be a list of strings"),
    ('[envs.a]\nrequirements = ["numpy"]\n', "unknown top-level key(s) envs"),
    ('[environments.a\n', "not valid TOML"),
    ('[environments.a]\nrequirements = ["numpy"]\nframeworks = ["paddle"]\n'
     '[environments.b]\nrequirements = ["numpy"]\nframeworks = ["paddle"]\n', "claimed by environments 'a' and 'b'"),
])
def test_bad_toml(tmp_path, text, says):
    path = tmp_path / "e.toml"
    path.write_text(text)
    with pytest.raises(envs.EnvironmentSpecError, match=".*") as info:
        envs.load_environments(path)
    assert says in str(info.value)


def test_unknown_environment_lists_the_known_ones():
    with pytest.raises(envs.UnknownEnvironment) as info:
        envs.get_environment("nope", {"a": envs.make_environment("a", ["numpy"])})
    assert "unknown environment 'nope' (known: a)" in str(info.value)
    assert isinstance(info.value, ConformanceError)


def test_key_hashes_python_requirements_and_constraints(monkeypatch):
    a = envs.make_environment("a", ["numpy", "onnx"])
    assert envs.environment_key(a) == envs.environment_key(envs.make_environment("a", ["onnx", "numpy"]))
    assert envs.environment_key(a) != envs.environment_key(envs.make_environment("a", ["numpy", "onnx<2"]))
    assert envs.environment_key(a) != envs.environment_key(
        envs.make_environment("a", ["numpy", "onnx"], constraints=["numpy<2"]))
    assert envs.environment_key(a) == envs.environment_key(envs.make_environment("a", ["numpy", "onnx"],
                                                                                imports=["numpy"]))
    before = envs.environment_key(a)
    monkeypatch.setattr(envbuild, "python_identity", lambda: {"version": "3.99.0"})
    assert envs.environment_key(a) != before


# --- uv's and pip's failures -------------------------------------------------------------------

UV_MISSING = """Using Python 3.11.7 environment at: x
error: No solution found when resolving dependencies
  cause: Because there is no version of numpy==9.9.9 and you require numpy==9.9.9, we can conclude that your requirements are unsatisfiable."""
UV_CONFLICT = """error: No solution found when resolving dependencies
  cause: Because tf2onnx==1.16.1 depends on protobuf>=3.20,<4.dev0 and you require tf2onnx==1.16.1, we can conclude that you require protobuf>=3.20,<4.dev0.
         And because you require protobuf==7.36.2, we can conclude that your requirements are unsatisfiable."""
UV_UNKNOWN = """error: No solution found when resolving dependencies
  cause: Because nonexistent-pkg was not found in the package registry and you require nonexistent-pkg, we can conclude that your requirements are unsatisfiable."""
PIP_MISSING = """ERROR: Could not find a version that satisfies the requirement numpy==9.9.9 (from versions: 1.26.4, 2.4.6)
ERROR: No matching distribution found for numpy==9.9.9"""
PIP_CONFLICT = """ERROR: Cannot install protobuf==7.36.2 and tf2onnx==1.16.1 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested protobuf==7.36.2
    tf2onnx 1.16.1 depends on protobuf~=3.20

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip to attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/"""


@pytest.mark.parametrize("output, reqs, culprits, kind", [
    (UV_MISSING, ["onnx", "numpy==9.9.9"], ("numpy==9.9.9",), "not available"),
    (UV_CONFLICT, ["tf2onnx==1.16.1", "onnx", "protobuf==7.36.2"], ("tf2onnx==1.16.1", "protobuf==7.36.2"), "conflict"),
    (UV_UNKNOWN, ["numpy", "nonexistent-pkg"], ("nonexistent-pkg",), "not available"),
    (PIP_MISSING, ["onnx", "numpy==9.9.9"], ("numpy==9.9.9",), "not available"),
    (PIP_CONFLICT, ["tf2onnx==1.16.1", "onnx", "protobuf==7.36.2", "pip"], ("tf2onnx==1.16.1", "protobuf==7.36.2"),
     "conflict"),
])
def test_unresolvable_names_the_requirements(output, reqs, culprits, kind):
    error = envbuild.install_failure(envs.make_environment("e", reqs), output, None)
    assert isinstance(error, envs.UnresolvableRequirements)
    assert error.requirements == culprits
    assert f"cannot resolve {', '.join(culprits)} ({kind})" in str(error)
    assert "\n" not in str(error)


def test_other_install_failures_quote_the_tool():
    output = "Resolved 3 packages\nerror: Failed to fetch: `https://pypi.org/simple/numpy/`\n  Caused by: dns error"
    error = envbuild.install_failure(envs.make_environment("e", ["numpy"]), output, Path("/x.log"))
    assert isinstance(error, envs.EnvironmentBuildFailed)
    assert "install failed: Failed to fetch" in str(error) and "(log: /x.log)" in str(error)


def test_parse_freeze():
    text = "# comment\nNumPy==2.4.6\nonnx_graphsurgeon==0.6.1\nfoo @ file:///tmp/foo.whl\n-e git+x\n"
    assert envbuild.parse_freeze(text) == {"numpy": "2.4.6", "onnx-graphsurgeon": "0.6.1",
                                          "foo": "file:///tmp/foo.whl"}


# --- building, with a fake runner --------------------------------------------------------------

class FakeRunner:
    """Plays uv and the environment's interpreter: records commands, creates the files a venv
    would have, answers install/health with what a test sets."""

    def __init__(self):
        self.calls = []
        self.install = (0, "Installed 1 package")
        self.health = (0, "")

    def __call__(self, cmd, *, env=None, cwd=None, timeout=None):
        cmd = [str(c) for c in cmd]
        self.calls.append(cmd)
        rc, out = 0, ""
        if cmd[1:3] == ["venv", "--python"] or cmd[1:3] == ["-m", "venv"]:
            path = Path(cmd[-1])
            (path / "bin").mkdir(parents=True)
            (path / "bin" / "python").write_text("")
            (path / "lib" / "site-packages").mkdir(parents=True)
        elif "install" in cmd:
            rc, out = self.install
        elif "freeze" in cmd:
            out = "numpy==2.4.6\n"
        elif cmd[1] == "-c" and "sysconfig" in cmd[2]:
            out = str(Path(cmd[0]).parent.parent / "lib" / "site-packages") + "\n"
        elif cmd[1] == "-c":
            rc, out = self.health
        return subprocess.CompletedProcess(cmd, rc, out)


@pytest.fixture
def fake(monkeypatch):
    runner = FakeRunner()
    monkeypatch.setattr(envbuild, "_run", runner)
    monkeypatch.setattr(envbuild, "find_uv", lambda: "uv")
    return runner


def tiny(**kwargs):
    return envs.make_environment("tiny", ["numpy==2.4.6"], imports=["numpy"], **kwargs)


def test_build_then_fast_path(tmp_path, fake):
    env = tiny()
    built = envs.build_environment(env, tmp_path)
    assert built.built_now and built.builder == "uv" and built.resolved == {"numpy": "2.4.6"}
    assert built.path == tmp_path / "envs" / f"tiny-{envs.environment_key(env)}"
    pth = built.path / "lib" / "site-packages" / envbuild.PTH_NAME
    assert pth.read_text().strip() == str(REPO_ROOT)
    assert (built.path / "conformance-requirements.txt").read_text() == "numpy==2.4.6\n"
    ran = len(fake.calls)
    again = envs.build_environment(env, tmp_path)
    assert not again.built_now and again.resolved == built.resolved and len(fake.calls) == ran
    assert envs.resolved_versions(env, cache_dir=tmp_path) == {"numpy": "2.4.6"}
    assert envs.env_python(env, cache_dir=tmp_path) == built.path / "bin" / "python"
    variables = envs.env_subprocess_env(env, cache_dir=tmp_path, base={"PATH": "/usr/bin", "PYTHONHOME": "x"})
    assert variables["PYTHONPATH"] == str(REPO_ROOT) and "PYTHONHOME" not in variables
    assert variables["PATH"] == f"{built.path / 'bin'}{os.pathsep}/usr/bin"
    assert variables["VIRTUAL_ENV"] == str(built.path)


def test_changed_requirements_rebuild_and_drop_the_old_build(tmp_path, fake):
    old = envs.build_environment(tiny(), tmp_path)
    new = envs.build_environment(tiny(constraints=["numpy<3"]), tmp_path)
    assert new.built_now and new.path != old.path and not old.path.exists()
    assert (new.path / "conformance-constraints.txt").read_text() == "numpy<3\n"
    assert any("-c" in call for call in fake.calls)


def test_half_built_environment_is_rebuilt(tmp_path, fake):
    path = envs.environment_path(tiny(), tmp_path)
    (path / "bin").mkdir(parents=True)
    (path / "leftover").write_text("from an interrupted build")
    assert not envs.environment_state(tiny(), tmp_path).built
    built = envs.build_environment(tiny(), tmp_path)
    assert built.built_now and not (path / "leftover").exists()


def test_unresolvable_requirement_is_named_and_nothing_is_left(tmp_path, fake):
    fake.install = (1, UV_MISSING)
    env = envs.make_environment("tiny", ["onnx", "numpy==9.9.9"])
    with pytest.raises(envs.UnresolvableRequirements) as info:
        envs.build_environment(env, tmp_path)
    assert info.value.requirements == ("numpy==9.9.9",)
    assert "environment 'tiny': cannot resolve numpy==9.9.9 (not available)" in str(info.value)
    path = envs.environment_path(env, tmp_path)
    assert not path.exists()
    failed_log = path.parent / f"{path.name}.failed.log"
    assert "numpy==9.9.9" in failed_log.read_text()
    assert "fix: change the pins of 'tiny'" in str(info.value)
    assert envs.remove_environment(env, tmp_path) == [] and not failed_log.exists()


@pytest.mark.parametrize("health, says", [
    ((-11, ""), "the interpreter died with SIGSEGV"),
    ((1, "Traceback...\nModuleNotFoundError: No module named 'onnx'"), "No module named 'onnx'"),
])
def test_failing_health_check_is_broken(tmp_path, fake, health, says):
    fake.health = health
    with pytest.raises(envs.EnvironmentBroken) as info:
        envs.build_environment(tiny(), tmp_path)
    assert says in str(info.value) and "fails its health check (import numpy)" in str(info.value)
    assert not envs.environment_path(tiny(), tmp_path).exists()


def test_check_rebuilds_an_environment_that_went_bad(tmp_path, fake):
    envs.build_environment(tiny(), tmp_path)
    fake.health = (1, "ImportError: numpy is broken")
    with pytest.raises(envs.EnvironmentBroken):
        envs.build_environment(tiny(), tmp_path, check=True)
    fake.health = (0, "")
    assert envs.build_environment(tiny(), tmp_path, check=True).built_now


def test_pip_when_uv_is_absent(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(envbuild, "find_uv", lambda: None)
    built = envs.build_environment(tiny(), tmp_path)
    assert built.builder == "pip"
    assert fake.calls[0][1:3] == ["-m", "venv"]
    assert fake.calls[1][1:4] == ["-m", "pip", "install"]
    with pytest.raises(envs.EnvironmentFailure, match="uv not found"):
        envs.build_environment(tiny(), tmp_path, force=True, builder="uv")


def test_env_python_without_building(tmp_path, fake):
    with pytest.raises(envs.EnvironmentFailure, match="is not built"):
        envs.env_python(tiny(), cache_dir=tmp_path, build=False)
    assert fake.calls == []


# --- the command -------------------------------------------------------------------------------

def run_cli(argv, capsys):
    parser = argparse.ArgumentParser(prog="conformance")
    envs.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_list_build_show_remove(tmp_path, fake, capsys):
    toml = tmp_path / "e.toml"
    toml.write_text('[environments.tiny]\nrequirements = ["numpy==2.4.6"]\nimports = ["numpy"]\n')
    common = ["env", "--environments", str(toml), "--cache-dir", str(tmp_path)]
    code, out = run_cli(common + ["list"], capsys)
    assert code == 0 and out.startswith("tiny ") and "not built" in out and "numpy==2.4.6" in out
    code, out = run_cli(common + ["build"], capsys)
    assert code == 0 and " built " in out and "built in" in out and "with uv" in out
    code, out = run_cli(common + ["build", "tiny"], capsys)
    assert "already built" in out
    code, out = run_cli(common + ["show", "tiny"], capsys)
    assert "resolved (1 packages)" in out and "numpy==2.4.6" in out
    code, out = run_cli(common + ["remove", "tiny"], capsys)
    assert out.startswith("removed ") and not envs.environment_path(tiny(), tmp_path).exists()
    code, out = run_cli(common + ["--env", "x=onnx numpy", "list"], capsys)
    assert len(out.splitlines()) == 2 and "x " in out
    with pytest.raises(envs.UnknownEnvironment, match=r"known: tiny"):
        run_cli(common + ["build", "nope"], capsys)


def test_cli_build_of_several_reports_each_failure(tmp_path, fake, capsys):
    fake.install = (1, UV_MISSING)
    common = ["env", "--environments", str(tmp_path / "none.toml")]
    with pytest.raises(envs.EnvironmentSpecError, match="not found"):
        run_cli(common + ["list"], capsys)
    argv = ["env", "--cache-dir", str(tmp_path), "--env", "a=numpy==9.9.9", "--env", "b=numpy==9.9.9", "build", "a", "b"]
    with pytest.raises(envs.EnvironmentFailure, match="2 of 2 environments failed to build: a, b"):
        run_cli(argv, capsys)
    assert "cannot resolve numpy==9.9.9" in capsys.readouterr().err


# --- one real build ----------------------------------------------------------------------------

@pytest.mark.skipif(envbuild.find_uv() is None, reason="uv is not installed")
def test_real_tiny_environment(tmp_path):
    env = envs.make_environment("tiny", ["numpy==2.4.6"], imports=["numpy", "conformance.errors"])
    try:
        built = envs.build_environment(env, tmp_path)
    except envs.EnvironmentBuildFailed as exc:          # no network and numpy not in uv's cache
        pytest.skip(f"cannot install numpy here: {exc}")
    assert built.resolved["numpy"] == "2.4.6"
    started = time.perf_counter()
    again = envs.build_environment(env, tmp_path)
    assert not again.built_now and time.perf_counter() - started < 0.5
    code = "import numpy, conformance.errors, sys; print(numpy.__version__, conformance.errors.__file__, sys.prefix)"
    out = subprocess.run([envs.env_python(env, cache_dir=tmp_path), "-c", code], check=True, text=True,
                         capture_output=True, env=envs.env_subprocess_env(env, cache_dir=tmp_path), cwd=tmp_path)
    version, source, prefix = out.stdout.split()
    assert version == "2.4.6" and Path(source) == REPO_ROOT / "conformance" / "errors.py"
    assert Path(prefix) == built.path
    # the .pth alone (no PYTHONPATH) makes our sources importable too
    bare = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([built.python, "-c", "import conformance.errors"], check=True, env=bare, cwd=tmp_path)
    # onnx is not there: the default health check says so, in one line
    assert "No module named 'onnx'" in envbuild.health_check(envs.make_environment("tiny", ["numpy"]), built.path)
