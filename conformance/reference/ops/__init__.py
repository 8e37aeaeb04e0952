"""Op implementations, one module per family; importing this package registers them all."""
import importlib

# ref-kernels' families: tolerated while absent (they land in parallel)
_KERNEL_MODULES = ("conv", "pool", "normalization", "rnn", "resize", "linalg", "attention", "transformer")
_GENERAL_MODULES = ("elementwise", "reduction", "shape", "indexing", "tensor", "control_flow", "sequence",
                    "quantization", "random", "misc", "signal", "text", "ml", "training", "image",
                    "image_decoder")

for _name in _KERNEL_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_name}":
            raise

for _name in _GENERAL_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
