"""Signal processing: DFT, STFT, MelWeightMatrix, window functions."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op


def _as_complex(x):
    """[..., 1] real or [..., 2] (real, imag) -> complex array without the last axis.

    Single precision stays single (numpy >= 2 transforms complex64 natively), as backends do."""
    ctype = np.complex128 if x.dtype == np.float64 else np.complex64
    out = x[..., 0].astype(ctype)
    if x.shape[-1] == 2:
        out = out + (1j * x[..., 1]).astype(ctype)
    return out


def _as_pairs(c, dtype):
    return np.stack([c.real, c.imag], axis=-1).astype(dtype)


def _dft(x, length, axis, inverse, onesided):
    signal = _as_complex(x)
    if inverse and onesided:  # IRFFT: a one-sided spectrum back to the full real signal
        n = 2 * (signal.shape[axis] - 1) if length is None else int(np.asarray(length).reshape(-1)[0])
        return np.fft.irfft(signal, n=n, axis=axis)[..., None].astype(x.dtype)
    n = signal.shape[axis] if length is None else int(np.asarray(length).reshape(-1)[0])
    if inverse:
        out = np.fft.ifft(signal, n=n, axis=axis)
    else:
        out = np.fft.fft(signal, n=n, axis=axis)
    if onesided:
        index = [slice(None)] * out.ndim
        index[axis] = slice(0, n // 2 + 1)
        out = out[tuple(index)]
    return _as_pairs(out, x.dtype)


@op("DFT", since=17)
def dft_17(ctx, x, dft_length=None):
    axis = ctx.attr("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return _dft(x, dft_length, axis, ctx.attr("inverse", 0), ctx.attr("onesided", 0))


@op("DFT", since=20)
def dft(ctx, x, dft_length=None, axis=None):
    axis = -2 if axis is None else int(np.asarray(axis).reshape(-1)[0])
    axis = axis + x.ndim if axis < 0 else axis
    return _dft(x, dft_length, axis, ctx.attr("inverse", 0), ctx.attr("onesided", 0))


@op("STFT", since=17)
def stft(ctx, signal, frame_step, window=None, frame_length=None):
    if signal.ndim == 2:
        # the spec wants [batch][length][1] for a real signal; torch-script writes [batch][length],
        # which onnxruntime reads as real: so do we
        signal = signal[..., None]
    step = int(np.asarray(frame_step).reshape(-1)[0])
    if frame_length is not None:
        length = int(np.asarray(frame_length).reshape(-1)[0])
    else:
        length = window.shape[0]
    data = _as_complex(signal)  # (batch, samples)
    count = 1 + (data.shape[1] - length) // step
    starts = np.arange(count) * step
    frames = data[:, starts[:, None] + np.arange(length)[None, :]]  # (batch, frames, length)
    if window is not None:
        frames = frames * window.astype(np.float64)
    spectrum = np.fft.fft(frames, axis=-1)
    onesided = ctx.attr("onesided", 1) and signal.shape[-1] == 1
    if onesided:
        spectrum = spectrum[..., : length // 2 + 1]
    return _as_pairs(spectrum, signal.dtype)


@op("MelWeightMatrix", since=17)
def mel_weight_matrix(ctx, num_mel_bins, dft_length, sample_rate, lower_edge_hertz, upper_edge_hertz):
    mels = int(num_mel_bins)
    length = int(dft_length)
    rate = int(sample_rate)
    spectrogram_bins = length // 2 + 1
    low_mel = 2595 * np.log10(1 + lower_edge_hertz / 700)
    high_mel = 2595 * np.log10(1 + upper_edge_hertz / 700)
    points = np.arange(0, mels + 2)
    step = (high_mel - low_mel) / points.shape[0]
    hertz = 700 * (np.power(10, (points * step + low_mel) / 2595) - 1)
    edges = (((length + 1) * hertz) // rate).astype(np.int64)
    left, center, right = edges[:-2], edges[1:-1], edges[2:]
    j = np.arange(spectrogram_bins)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = np.where((j >= left) & (j <= center), (j - left) / np.maximum(center - left, 1), 0.0)
        rising = np.where((center == left) & (j == center), 1.0, rising)
        falling = (right - j) / np.maximum(right - center, 1)
        out = np.where((j >= center) & (j < right) & (right > center), falling, rising)
    elem = ctx.attr("output_datatype", 1)
    return out.astype(dtypes.to_dtype(elem))


def _window(ctx, size, coefficients):
    n = int(np.asarray(size).reshape(-1)[0])
    periodic = ctx.attr("periodic", 1)
    denom = n if periodic else n - 1
    k = np.arange(n, dtype=np.float64)
    out = np.zeros(n)
    for order, a in enumerate(coefficients):
        out += ((-1) ** order) * a * np.cos(2 * np.pi * order * k / denom)
    return out.astype(ctx.float_dtype(dtypes.to_dtype(ctx.attr("output_datatype", 1))))


@op("HannWindow", since=17)
def hann_window(ctx, size):
    return _window(ctx, size, (0.5, 0.5))


@op("HammingWindow", since=17)
def hamming_window(ctx, size):
    return _window(ctx, size, (25 / 46, 21 / 46))


@op("BlackmanWindow", since=17)
def blackman_window(ctx, size):
    return _window(ctx, size, (0.42, 0.5, 0.08))
