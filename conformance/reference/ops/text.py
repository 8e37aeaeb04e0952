"""String ops (object arrays of str): StringNormalizer, StringConcat, StringSplit, RegexFullMatch,
TfIdfVectorizer. Strings are not a hot path; clarity wins here."""
from __future__ import annotations

import re

import numpy as np

from ..registry import op


def _strings(x):
    return np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else str(s), otypes=[object])(x) \
        if x.size else x.astype(object)


@op("StringNormalizer", since=10)
def string_normalizer(ctx, x):
    action = ctx.attr("case_change_action", "NONE")
    sensitive = ctx.attr("is_case_sensitive", 0)
    stopwords = set(ctx.attr("stopwords") or [])
    words = _strings(x).reshape(-1).tolist()
    if stopwords:
        if sensitive:
            words = [w for w in words if w not in stopwords]
        else:
            lowered = {s.lower() for s in stopwords}
            words = [w for w in words if w.lower() not in lowered]
    if action == "LOWER":
        words = [w.lower() for w in words]
    elif action == "UPPER":
        words = [w.upper() for w in words]
    out = np.array(words if words else [""], dtype=object)
    return out.reshape(1, -1) if x.ndim == 2 else out


@op("StringConcat", since=20)
def string_concat(ctx, x, y):
    return np.asarray(np.add(_strings(x), _strings(y)), dtype=object)


@op("StringSplit", since=20)
def string_split(ctx, x):
    delimiter = ctx.attr("delimiter") or None
    maxsplit = ctx.attr("maxsplit", -1)
    flat = _strings(x).reshape(-1).tolist()
    parts = [s.split(delimiter, maxsplit) if delimiter is not None else s.split(None, maxsplit) for s in flat]
    width = max((len(p) for p in parts), default=0)
    out = np.full((len(flat), width), "", dtype=object)
    for i, p in enumerate(parts):
        out[i, : len(p)] = p
    counts = np.array([len(p) for p in parts], dtype=np.int64).reshape(x.shape)
    return out.reshape(x.shape + (width,)), counts


@op("RegexFullMatch", since=20)
def regex_full_match(ctx, x):
    pattern = re.compile(ctx.attr("pattern"))
    flat = _strings(x).reshape(-1).tolist()
    return np.array([pattern.fullmatch(s) is not None for s in flat], dtype=bool).reshape(x.shape)


@op("TfIdfVectorizer", since=9)
def tfidf_vectorizer(ctx, x):
    min_n, max_n = ctx.attr("min_gram_length"), ctx.attr("max_gram_length")
    max_skip = ctx.attr("max_skip_count", 0)
    mode = ctx.attr("mode", "TF")
    counts = list(ctx.attr("ngram_counts")) + [None]
    indexes = ctx.attr("ngram_indexes")
    weights = ctx.attr("weights")
    pool = ctx.attr("pool_int64s") if ctx.has_attr("pool_int64s") else ctx.attr("pool_strings")
    # pool entry -> output index, keyed by the gram as a tuple
    table: dict[tuple, int] = {}
    position = 0
    for n in range(1, len(counts)):
        start, stop = counts[n - 1], counts[n] if counts[n] is not None else len(pool)
        for offset in range(start, stop, n):
            table[tuple(pool[offset: offset + n])] = indexes[position]
            position += 1
    size = max(indexes) + 1
    rows = x.reshape(1, -1) if x.ndim == 1 else x
    out = np.zeros((rows.shape[0], size), dtype=np.float32)
    for r, row in enumerate(rows):
        tokens = [t.decode() if isinstance(t, bytes) else t for t in row.tolist()]
        for n in range(min_n, max_n + 1):
            skips = range(0, max_skip + 1) if n > 1 else range(1)
            for skip in skips:
                span = (n - 1) * (skip + 1)
                for start in range(0, len(tokens) - span):
                    gram = tuple(tokens[start: start + span + 1: skip + 1])
                    index = table.get(gram)
                    if index is not None:
                        out[r, index] += 1
    if mode == "IDF":
        out = (out > 0).astype(np.float32)
    if mode in ("IDF", "TFIDF") and weights:
        out = out * np.asarray(weights, dtype=np.float32)
    return out.reshape(-1) if x.ndim == 1 else out
