"""Runs one case on one target and returns its result record. Usable without pytest.

spec --(worker: build, run source, convert)--> Conversion (cached) --(passes)--> ONNX
     --(target: prepare, run)--> outputs --(tolerance)--> verdict --(reference)--> attribution
"""
from __future__ import annotations

import functools
import importlib.util
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import ConversionCache, cache_key
from .cases import CaseSpec, Conversion
from .errors import WorkerCrashed, WorkerTimeout, classify_failure
from .results import CaseResult
from .workers import WorkerError, WorkerPool


@dataclass(frozen=True)
class CaseRun:
    """One case x converter x opset x target: one test, one record."""

    spec: CaseSpec
    converter: str
    opset: int
    target: str

    @property
    def case_id(self) -> str:
        return self.spec.case_id(self.converter, self.opset, self.target)

    def __str__(self) -> str:
        return self.case_id


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


def onnx_op_types(onnx_bytes: bytes) -> list[str]:
    import onnx
    model = onnx.load_from_string(onnx_bytes)
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add(node.op_type)
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)
    walk(model.graph)
    return sorted(ops)


def _safe_name(case_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", case_id).strip("_")


@dataclass
class RunnerOptions:
    timeout: float = 300.0
    cache_dir: str | None = None
    use_cache: bool = True
    repro_dir: str | None = None
    strict_known_failures: bool = False
    known_failures_path: str | None = None
    localize: bool = True
    extra: dict = field(default_factory=dict)


class Runner:
    def __init__(self, options: RunnerOptions | None = None):
        self.options = options or RunnerOptions()
        self.pool = WorkerPool()
        self.cache = ConversionCache(self.options.cache_dir, enabled=self.options.use_cache)
        self._conversions = _LRU(64)
        self._sessions = _LRU(8)
        self._reference_outputs = _LRU(32)
        self._known = None
        self.conversions_done = 0

    # -- conversion -------------------------------------------------------------------------
    def conversion(self, spec: CaseSpec, converter_name: str, opset: int) -> tuple[Conversion, str]:
        from converters import get_converter, get_passes, split_chain
        from converters.frameworks import framework_version

        base_name, pass_names = split_chain(converter_name)
        base = get_converter(base_name)
        fw_version = framework_version(spec.framework)
        base_key = cache_key(spec, base_name, base.fingerprint(), fw_version, opset)
        if pass_names:
            passes = get_passes(converter_name)
            key = cache_key(spec, converter_name, base.fingerprint() + "|" + ",".join(p.version() for p in passes),
                            fw_version, opset)
        else:
            passes, key = [], base_key
        if key in self._conversions:
            return self._conversions[key], key
        conv = self.cache.get(key)
        if conv is None:
            conv = self._base_conversion(spec, base_name, opset, base_key)
            if passes and conv.status == "ok":
                conv = self._apply_passes(conv, passes)
            if pass_names:
                self.cache.put(key, conv)
        return self._conversions.put(key, conv), key

    def _base_conversion(self, spec: CaseSpec, base_name: str, opset: int, key: str) -> Conversion:
        conv = self._conversions.get(key) or self.cache.get(key)
        if conv is not None:
            return conv
        t0 = time.perf_counter()
        from converters import get_converter
        fresh = get_converter(base_name).fresh_process
        worker = self.pool.get(spec.framework, f"{spec.framework}-{base_name}" if fresh else None)
        try:
            conv = worker.request("convert", spec.to_dict(), base_name, opset, timeout=self.options.timeout)
            self.conversions_done += 1
        except (WorkerCrashed, WorkerTimeout) as exc:
            # a converter that aborts the process on an op it cannot map (paddle2onnx does) is
            # unsupported, not an error, when its last words say so; a segfault is a crash
            # whatever was printed before it
            said = " ".join(exc.context.get("output") or [])
            deliberate = exc.context.get("deliberate", False)
            status = classify_failure(said) if deliberate and said else "error"
            conv = Conversion(status=status, message=exc.message,
                              seconds={"build": 0.0, "convert": time.perf_counter() - t0})
        except WorkerError as exc:
            conv = Conversion(status="error", message=f"conversion failed: {exc.message}",
                              seconds={"build": 0.0, "convert": time.perf_counter() - t0}, error_type=exc.type_name)
            conv.versions["traceback"] = exc.traceback[-4000:]
        finally:
            if fresh:
                worker.stop()      # the next conversion starts clean
        self.cache.put(key, conv)
        return self._conversions.put(key, conv)

    @staticmethod
    def _apply_passes(conv: Conversion, passes) -> Conversion:
        import onnx
        t0 = time.perf_counter()
        step = "loading the converted model"
        try:
            model = onnx.load_from_string(conv.onnx_bytes)
            for p in passes:
                step = f"pass {p.name!r}"
                model = p.apply(model)
            data = model.SerializeToString()
        except Exception as exc:
            return Conversion(status="error", message=f"{step} failed: {type(exc).__name__}: {exc}",
                              versions=conv.versions, seconds=dict(conv.seconds))
        seconds = dict(conv.seconds)
        seconds["convert"] = seconds.get("convert", 0.0) + time.perf_counter() - t0
        return Conversion(status="ok", onnx_bytes=data, input_names=conv.input_names,
                          output_names=[o.name for o in model.graph.output], input_sets=conv.input_sets,
                          golden_sets=conv.golden_sets, expected=conv.expected,
                          expected_shapes=conv.expected_shapes, seconds=seconds, versions=conv.versions)

    # -- targets ----------------------------------------------------------------------------
    def _session(self, target, key: str, conv: Conversion):
        skey = (key, target.name)
        if skey not in self._sessions:
            self._sessions.put(skey, target.prepare(conv.onnx_bytes))
        return self._sessions[skey]

    def _run_target(self, target, key, conv) -> list[list[np.ndarray]]:
        session = self._session(target, key, conv)
        return [target.run(session, dict(zip(conv.input_names, inputs))) for inputs in conv.input_sets]

    def _reference(self, key, conv) -> list[list[np.ndarray]] | None:
        from .targets import get_target, target_status
        if key not in self._reference_outputs:
            ok, _ = target_status("reference")
            if not ok:
                return None
            try:
                self._reference_outputs.put(key, self._run_target(get_target("reference"), key, conv))
            except Exception:
                self._reference_outputs.put(key, None)
        return self._reference_outputs[key]

    # -- the case ---------------------------------------------------------------------------
    def known_failures(self):
        if self._known is None:
            try:
                from .known_failures import load_known_failures
                self._known = load_known_failures(self.options.known_failures_path)
            except ModuleNotFoundError:
                self._known = False
        return self._known or None

    def run(self, case: CaseRun, conversion: tuple[Conversion, str] | None = None) -> CaseResult:
        """The record of one case; never raises: an unexpected failure is an ``error`` record."""
        import traceback
        try:
            return self._run(case, conversion)
        except Exception as exc:
            spec = case.spec
            return CaseResult(case_id=case.case_id, kind=spec.kind, framework=spec.framework,
                              converter=case.converter, target=case.target, status="error", opset=case.opset,
                              op=spec.op, arch=spec.arch,
                              message=f"harness error: {type(exc).__name__}: {exc}",
                              extra={"traceback": traceback.format_exc()[-4000:]})

    def _run(self, case: CaseRun, conversion: tuple[Conversion, str] | None) -> CaseResult:
        from converters import converter_status, get_converter, split_chain
        from .targets import get_target, target_status

        spec = case.spec
        record = CaseResult(case_id=case.case_id, kind=spec.kind, framework=spec.framework,
                            converter=case.converter, target=case.target, status="skipped",
                            opset=case.opset, op=spec.op, arch=spec.arch)
        ok, why = target_status(case.target)
        if not ok:
            record.status, record.message = "unavailable", f"target {case.target} unavailable: {why}"
            return record
        ok, why = converter_status(case.converter)
        if not ok:
            record.status, record.message = "unavailable", f"converter {case.converter} unavailable: {why}"
            return record
        if spec.min_opset and case.opset < spec.min_opset:
            record.status, record.message = "skipped", f"needs opset >= {spec.min_opset}"
            return record
        target = get_target(case.target)
        record.versions = {"converter": get_converter(split_chain(case.converter)[0]).version(),
                           "target": target.version()}
        conv, key = conversion or self.conversion(spec, case.converter, case.opset)
        record.versions.update({k: v for k, v in conv.versions.items() if k != "traceback"})
        record.versions["onnx"] = _dist_version("onnx")
        record.versions["cpu"] = cpu_model()
        record.seconds = {"build": round(conv.seconds.get("build", 0.0), 4),
                          "convert": round(conv.seconds.get("convert", 0.0), 4), "run": 0.0}
        record.extra["cached"] = conv.cached
        if conv.status != "ok":
            record.status = "unsupported" if conv.status == "unsupported" else "error"
            record.message = conv.message
            record.extra["attribution"] = "converter"      # no model came out of the conversion
            if "traceback" in conv.versions:
                record.extra["traceback"] = conv.versions["traceback"]
            return self._finish(record, case, conv)
        record.onnx_ops = onnx_op_types(conv.onnx_bytes)
        t0 = time.perf_counter()
        try:
            outputs = self._run_target(target, key, conv)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            record.status = classify_failure(exc)
            record.message = f"target {case.target} failed to run the model: {text[:2000]}"
            record.seconds["run"] = round(time.perf_counter() - t0, 4)
            self._attribute_run_failure(record, case, key, conv)
            return self._finish(record, case, conv)
        record.seconds["run"] = round(time.perf_counter() - t0, 4)
        self._judge(record, spec, conv, outputs, target.precision)
        record.extra["target_precision"] = target.precision
        if record.status == "failed":
            self._attribute(record, case, key, conv, target)
        return self._finish(record, case, conv)

    def _judge(self, record: CaseResult, spec: CaseSpec, conv: Conversion, outputs, precision: str = "fp32") -> None:
        from .comparator import compare_outputs
        from .tolerance import resolve_tolerance, widen_for_precision

        messages, passed = [], True
        worst = {"max_abs": 0.0, "max_rel": 0.0, "mismatch": 0.0}
        if not conv.golden_sets or any(len(g) == 0 for g in conv.golden_sets) or len(outputs) != len(conv.golden_sets):
            record.status = "failed"
            record.message = (f"nothing to compare: the source framework gave {[len(g) for g in conv.golden_sets]} "
                              f"outputs per input set and the target ran {len(outputs)} input sets")
            return
        tol = None
        for i, (got, golden) in enumerate(zip(outputs, conv.golden_sets)):
            tols = [widen_for_precision(resolve_tolerance(np.asarray(g).dtype, None, spec.tolerance), precision,
                                        np.asarray(g).dtype) for g in golden]
            tol = tols[0] if tols else tol
            cmp = compare_outputs(got, golden, tols, names=conv.output_names[:len(golden)] or None)
            label = "sample" if i == 0 else f"input set {i} {[tuple(a.shape) for a in conv.input_sets[i]]}"
            if not cmp.passed:
                passed = False
                messages.append(f"[{label}] vs source framework:\n{cmp.message}")
            for k in worst:
                v = getattr(cmp, k, None)
                if v is not None and not np.isnan(v):      # inf stays: it is the worst error
                    worst[k] = max(worst[k], float(v))
            if conv.expected_shapes is not None and i < len(conv.expected_shapes):
                shapes = [tuple(np.shape(o)) for o in got]
                want = [tuple(s) for s in conv.expected_shapes[i]]
                if shapes[:len(want)] != want:
                    passed = False
                    messages.append(f"[{label}] output shapes {shapes} != expected {want}")
        if conv.expected is not None and outputs:
            tols = [widen_for_precision(resolve_tolerance(np.asarray(e).dtype, None, spec.tolerance), precision,
                                        np.asarray(e).dtype) for e in conv.expected]
            cmp = compare_outputs(outputs[0][:len(conv.expected)], conv.expected, tols)
            if not cmp.passed:
                passed = False
                messages.append(f"[sample] vs hand-computed expected values:\n{cmp.message}")
        record.max_abs, record.max_rel, record.mismatch = worst["max_abs"], worst["max_rel"], worst["mismatch"]
        if tol is not None:
            record.rtol, record.atol = tol.rtol, tol.atol
        record.status = "passed" if passed else "failed"
        record.message = "\n".join(messages)

    def _second_opinion(self, case: CaseRun, key: str, conv: Conversion):
        """(name, available, outputs per input set or None if it cannot run the model) of the
        other oracle: the reference executor, or onnxruntime when the case's target is the reference."""
        second = "onnxruntime" if case.target == "reference" else "reference"
        if second == "reference":
            return second, True, self._reference(key, conv)
        from .targets import get_target, target_status
        if not target_status(second)[0]:
            return second, False, None
        try:
            return second, True, self._run_target(get_target(second), key, conv)
        except Exception:
            return second, True, None

    @staticmethod
    def _agrees_with_source(outputs, conv: Conversion, spec: CaseSpec) -> bool:
        from .comparator import compare_outputs
        from .tolerance import resolve_tolerance
        return all(compare_outputs(o, g, [resolve_tolerance(np.asarray(x).dtype, None, spec.tolerance) for x in g]).passed
                   for o, g in zip(outputs, conv.golden_sets))

    def _attribute(self, record: CaseResult, case: CaseRun, key: str, conv: Conversion, target) -> None:
        """Whose failure is it? The reference executor agreeing with the source clears the
        converter; a target disagreeing with the reference is the target's."""
        try:
            second, available, ref = self._second_opinion(case, key, conv)
            if ref is None:
                record.extra["attribution"] = "unknown (no second opinion available)"
                return
            if self._agrees_with_source(ref, conv, case.spec):
                whose = "target"
                record.message = (f"attributed to the TARGET {case.target}: the {second} target agrees with the "
                                  f"source framework, {case.target} does not.\n" + record.message)
            else:
                whose = "converter"
                record.message = (f"attributed to the CONVERTER {case.converter}: the {second} target disagrees "
                                  f"with the source framework too.\n" + record.message)
            record.extra["attribution"] = whose
            if self.options.localize:
                self._localize(record, case, conv, whose)
        except Exception as exc:   # attribution is a diagnosis; it must never break the case
            record.extra["attribution_error"] = f"{type(exc).__name__}: {exc}"

    def _attribute_run_failure(self, record: CaseResult, case: CaseRun, key: str, conv: Conversion) -> None:
        """A target that cannot run a model: its own failure if a second opinion runs the model
        and agrees with the source; the converter's if the model runs nowhere (invalid)."""
        try:
            second, available, ref = self._second_opinion(case, key, conv)
            if not available:
                record.extra["attribution"] = "unknown (no second opinion available)"
                return
            if ref is None:
                whose, why = "converter", f"the {second} target cannot run the model either"
            elif self._agrees_with_source(ref, conv, case.spec):
                whose, why = "target", f"the {second} target runs it and agrees with the source framework"
            else:
                whose, why = "converter", f"the {second} target runs it but disagrees with the source framework"
            record.extra["attribution"] = whose
            record.message = f"attributed to the {whose.upper()}: {why}.\n" + record.message
        except Exception as exc:
            record.extra["attribution_error"] = f"{type(exc).__name__}: {exc}"

    def _localize(self, record: CaseResult, case: CaseRun, conv: Conversion, whose: str) -> None:
        import onnx
        from .tolerance import resolve_tolerance
        model = onnx.load_from_string(conv.onnx_bytes)
        feeds = dict(zip(conv.input_names, conv.input_sets[0]))
        tol = resolve_tolerance(np.float32, None, case.spec.tolerance)
        if whose == "target" and importlib.util.find_spec("conformance.localize"):
            from .localize import first_divergent_node
            oracle = "onnxruntime" if case.target == "reference" else "reference"
            found = first_divergent_node(model, feeds, case.target, tol, oracle=oracle)
            if found is not None:
                record.extra["divergent_node"] = _as_dict(found)
                record.message = f"first divergent node: {found}\n" + record.message
        elif whose == "converter" and importlib.util.find_spec("conformance.attribution") \
                and importlib.util.find_spec("converters.intermediates"):
            from .attribution import attribute_source
            intermediates = self.pool.get(case.spec.framework).request(
                "call", case.spec.to_dict(), "converters.intermediates:source_intermediates", {},
                timeout=self.options.timeout)
            found = attribute_source(model, feeds, intermediates, tol)
            if found is not None:
                record.extra["divergent_source_layer"] = _as_dict(found)
                record.message = f"first divergent source layer: {found}\n" + record.message

    def _finish(self, record: CaseResult, case: CaseRun, conv: Conversion) -> CaseResult:
        known = self.known_failures()
        if known is not None:
            from .known_failures import expected_status
            version = record.versions.get("converter", "")
            entry = known.match(record.case_id, case.converter, version, case.target)
            base = case.converter.split("+")[0]
            if entry is None and base != case.converter:
                # a converter's known bug stays known through the passes chained after it
                entry = known.match(record.case_id.replace(f"/{case.converter}/", f"/{base}/", 1), base, version,
                                    case.target)
            record.status, record.message = expected_status(record.status, record.message, entry)
            if entry is not None:
                record.extra["known_failure"] = {"status": entry.status, "pattern": entry.pattern}
        if record.status in ("failed", "error") and self.options.repro_dir and conv.status == "ok":
            try:
                record.extra["repro"] = str(write_repro(Path(self.options.repro_dir), record, conv))
            except OSError as exc:
                record.extra["repro_error"] = str(exc)
        return record

    def close(self) -> None:
        self.pool.close()


def _as_dict(obj):
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict
        try:
            return asdict(obj)
        except TypeError:
            pass
    return {"text": str(obj)}


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    import platform
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=None)
def _dist_version(name: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def write_backend_test_layout(folder: Path, onnx_bytes: bytes | None, inputs, input_names, outputs, output_names,
                              data_set: int = 0) -> Path:
    """ONNX backend-test layout: model.onnx and test_data_set_N/{input,output}_K.pb."""
    from onnx import numpy_helper
    data = folder / f"test_data_set_{data_set}"
    data.mkdir(parents=True, exist_ok=True)
    if onnx_bytes is not None:
        (folder / "model.onnx").write_bytes(onnx_bytes)
    for i, (name, arr) in enumerate(zip(input_names, inputs)):
        (data / f"input_{i}.pb").write_bytes(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())
    for i, (name, arr) in enumerate(zip(output_names, outputs)):
        (data / f"output_{i}.pb").write_bytes(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())
    return folder


def write_repro(root: Path, record: CaseResult, conv: Conversion) -> Path:
    """A failed case's reproduction bundle, and the one command that reproduces it."""
    folder = root / _safe_name(record.case_id)
    write_backend_test_layout(folder, conv.onnx_bytes, conv.input_sets[0], conv.input_names,
                              conv.golden_sets[0], conv.output_names)
    np.savez(folder / "inputs.npz", **dict(zip(conv.input_names, conv.input_sets[0])))
    np.savez(folder / "expected.npz", **dict(zip(conv.output_names, conv.golden_sets[0])))
    tol = f" --rtol {record.rtol:g} --atol {record.atol:g}" if record.rtol is not None else ""
    command = (f"conformance check {folder / 'model.onnx'} --inputs {folder / 'inputs.npz'} "
               f"--expected {folder / 'expected.npz'} --target {record.target}{tol}")
    (folder / "README.txt").write_text(
        f"case: {record.case_id}\nstatus: {record.status}\n\nreproduce:\n  {command}\n\n{record.message}\n")
    (folder / "command.sh").write_text(command + "\n")
    return folder
