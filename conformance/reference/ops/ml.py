"""The ai.onnx.ml ops the corpus tests: LabelEncoder, TreeEnsemble, Binarizer, ArrayFeatureExtractor."""
from __future__ import annotations

import numpy as np

from ..registry import op

ML = "ai.onnx.ml"


@op("Binarizer", domain=ML)
def binarizer(ctx, x):
    return (x > ctx.attr("threshold", 0.0)).astype(x.dtype)


@op("ArrayFeatureExtractor", domain=ML)
def array_feature_extractor(ctx, x, indices):
    out = np.take(x, np.asarray(indices).reshape(-1).astype(np.int64), axis=-1)
    return out.reshape(1, -1) if x.ndim == 1 else out


def _label_table(ctx):
    """(keys, values, default) from whichever attribute spelling the node uses."""
    keys = values = None
    for name in ("keys_tensor", "keys_strings", "keys_int64s", "keys_floats"):
        if ctx.has_attr(name):
            keys = np.asarray(ctx.attr(name), dtype=object if name == "keys_strings" else None)
            break
    for name, dtype in (("values_tensor", None), ("values_strings", object), ("values_int64s", np.int64),
                        ("values_floats", np.float32)):
        if ctx.has_attr(name):
            values = np.asarray(ctx.attr(name), dtype=dtype)
            break
    if ctx.has_attr("default_tensor"):
        default = np.asarray(ctx.attr("default_tensor")).reshape(-1)[0]
    elif values.dtype == object:
        default = ctx.attr("default_string", "_Unused")
    elif values.dtype.kind in "iu":
        default = ctx.attr("default_int64", -1)
    else:
        default = ctx.attr("default_float", -0.0)
    return keys, values, default


@op("LabelEncoder", domain=ML, since=2)
def label_encoder(ctx, x):
    keys, values, default = _label_table(ctx)
    if keys.dtype == object or x.dtype == object:
        mapping = dict(zip(keys.tolist(), values.tolist()))
        flat = [mapping.get(k, default) for k in x.reshape(-1).tolist()]
        return np.array(flat, dtype=values.dtype).reshape(x.shape)
    # numeric keys: vectorized through a sorted key table (NaN keys match NaN inputs)
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_values = keys[order], values[order]
    pos = np.clip(np.searchsorted(sorted_keys, x), 0, len(sorted_keys) - 1)
    hit = (sorted_keys[pos] == x) | (np.isnan(sorted_keys[pos]) & np.isnan(x) if x.dtype.kind == "f" else False)
    return np.where(hit, sorted_values[pos], np.asarray(default, dtype=values.dtype)).astype(values.dtype)


@op("LabelEncoder", domain=ML, since=1)
def label_encoder_1(ctx, x):
    classes = list(ctx.attr("classes_strings") or [])
    if x.dtype == object:
        index = {c: i for i, c in enumerate(classes)}
        flat = [index.get(s, ctx.attr("default_int64", -1)) for s in x.reshape(-1).tolist()]
        return np.array(flat, dtype=np.int64).reshape(x.shape)
    default = ctx.attr("default_string", "_Unused")
    flat = [classes[i] if 0 <= i < len(classes) else default for i in x.reshape(-1).tolist()]
    return np.array(flat, dtype=object).reshape(x.shape)


_BRANCH = {
    0: np.less_equal, 1: np.less, 2: np.greater_equal, 3: np.greater, 4: np.equal, 5: np.not_equal,
}


@op("TreeEnsemble", domain=ML, since=5)
def tree_ensemble(ctx, x):
    """Every row walks every tree together: one vectorized step per tree level."""
    features = np.asarray(ctx.attr("nodes_featureids"), dtype=np.int64)
    modes = np.asarray(ctx.attr("nodes_modes")).astype(np.int64)
    splits = np.asarray(ctx.attr("nodes_splits"), dtype=np.float64)
    true_ids = np.asarray(ctx.attr("nodes_truenodeids"), dtype=np.int64)
    true_leaf = np.asarray(ctx.attr("nodes_trueleafs"), dtype=bool)
    false_ids = np.asarray(ctx.attr("nodes_falsenodeids"), dtype=np.int64)
    false_leaf = np.asarray(ctx.attr("nodes_falseleafs"), dtype=bool)
    missing_true = np.asarray(ctx.attr("nodes_missing_value_tracks_true") or [0] * len(features), dtype=bool)
    leaf_targets = np.asarray(ctx.attr("leaf_targetids"), dtype=np.int64)
    leaf_weights = np.asarray(ctx.attr("leaf_weights"))
    n_targets = ctx.attr("n_targets")
    aggregate = ctx.attr("aggregate_function", 1)
    members = _membership_sets(ctx.attr("membership_values"), modes)
    data = x.astype(np.float64)
    rows = np.arange(data.shape[0])
    trees = ctx.attr("tree_roots")
    per_tree = []
    for root in trees:
        node = np.full(data.shape[0], root, dtype=np.int64)
        done = np.zeros(data.shape[0], dtype=bool)
        leaf = np.zeros(data.shape[0], dtype=np.int64)
        while not done.all():
            active = ~done
            n = node[active]
            value = data[rows[active], features[n]]
            go_true = np.zeros(n.shape, dtype=bool)
            for mode, compare in _BRANCH.items():
                sel = modes[n] == mode
                go_true[sel] = compare(value[sel], splits[n[sel]])
            for member_node, member_set in members.items():
                sel = n == member_node
                if sel.any():
                    go_true[sel] = np.isin(value[sel], member_set)
            go_true |= np.isnan(value) & missing_true[n]
            next_id = np.where(go_true, true_ids[n], false_ids[n])
            is_leaf = np.where(go_true, true_leaf[n], false_leaf[n])
            idx = np.flatnonzero(active)
            leaf[idx[is_leaf]] = next_id[is_leaf]
            done[idx[is_leaf]] = True
            node[idx] = next_id
        per_tree.append(leaf)
    leaves = np.stack(per_tree, axis=1)  # (rows, trees)
    weights = leaf_weights[leaves]
    targets = leaf_targets[leaves]
    onehot = targets[:, :, None] == np.arange(n_targets)[None, None, :]
    if aggregate in (0, 1):
        out = np.where(onehot, weights[:, :, None], 0).sum(axis=1)
        if aggregate == 0:
            out = out / len(trees)
    elif aggregate == 2:
        out = np.where(onehot, weights[:, :, None], np.inf).min(axis=1)
    else:
        out = np.where(onehot, weights[:, :, None], -np.inf).max(axis=1)
    out = np.where(np.isfinite(out) | onehot.any(axis=1), out, 0)
    out = _post_transform(out, ctx.attr("post_transform", 0))
    return out.astype(leaf_weights.dtype)


def _membership_sets(values, modes):
    """membership_values lists each BRANCH_MEMBER node's set in node order, NaN-separated."""
    sets: dict[int, np.ndarray] = {}
    if values is None:
        return sets
    values = np.asarray(values, dtype=np.float64).tolist()
    groups, current = [], []
    for v in values:
        if np.isnan(v):
            groups.append(np.array(current))
            current = []
        else:
            current.append(v)
    if current:
        groups.append(np.array(current))
    for node_index, group in zip(np.flatnonzero(modes == 6), groups):
        sets[int(node_index)] = group
    return sets


def _post_transform(scores, kind):
    if kind == 0:
        return scores
    if kind == 1:
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if kind == 2:
        return 1 / (1 + np.exp(-scores))
    if kind == 3:
        e = np.where(scores == 0, 0, np.exp(scores - scores.max(axis=1, keepdims=True)))
        total = e.sum(axis=1, keepdims=True)
        return np.where(total > 0, e / np.where(total > 0, total, 1), 0)
    raise NotImplementedError("TreeEnsemble post_transform PROBIT is not implemented")
