"""Constant folding for the ONNX importer: the nodes whose inputs are all
known before the network runs (weights, Constant nodes, shapes of tensors
whose size the graph fixes). PyTorch's exports at opset 11 and later compute
each Pad's pads with such a chain (ConstantOfShape, Concat, Reshape, Slice,
Transpose, Cast), and some exports compute Resize's sizes from Shape.

fold(node, inputs, opset) returns the node's outputs as numpy arrays, or
None when the importer has no rule for the op."""

import numpy as np
from onnx import helper, mapping, numpy_helper

from .stylebin import ConvertError


def describe(node):
    """How errors name a node: its op, and its name or else its output."""
    if node.name:
        return "%s node '%s'" % (node.op_type, node.name)
    return "%s node (output '%s')" % (node.op_type,
                                      node.output[0] if node.output else "")


def attrs(node):
    out = {}
    for a in node.attribute:
        try:
            out[a.name] = helper.get_attribute_value(a)
        except Exception:
            raise ConvertError("%s: cannot read attribute '%s'"
                               % (describe(node), a.name))
        if isinstance(out[a.name], bytes):
            out[a.name] = out[a.name].decode("utf-8", "replace")
    return out


def to_array(tensor, what):
    try:
        return numpy_helper.to_array(tensor)
    except Exception as e:
        raise ConvertError("%s: cannot read its data (%s)" % (what, e))


def constant_value(node):
    """A Constant node's value."""
    a = attrs(node)
    if "value" in a:
        return to_array(a["value"], describe(node))
    for key, dtype in (("value_float", np.float32), ("value_floats",
                       np.float32), ("value_int", np.int64),
                       ("value_ints", np.int64)):
        if key in a:
            return np.array(a[key], dtype=dtype)
    raise ConvertError("%s: a kind of constant the importer does not read "
                       "(%s)" % (describe(node), ", ".join(a) or "no value"))


def _ints(a):
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _slice(data, starts, ends, axes, steps):
    index = [slice(None)] * data.ndim
    if axes is None:
        axes = list(range(len(starts)))
    if steps is None:
        steps = [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis %= data.ndim
        dim = data.shape[axis]
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:  # ONNX clamps differently: end -1 means past index 0
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
        index[axis] = slice(start, None if end < 0 else end, step)
    return data[tuple(index)]


def _reshape(data, shape, allowzero):
    shape = list(shape)
    if not allowzero:
        shape = [data.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return data.reshape(shape)


def _divide(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":  # ONNX truncates
        q = np.abs(a) // np.abs(b)
        return (q * np.sign(a) * np.sign(b)).astype(np.result_type(a, b))
    return a / b


def _axes(node, a, inputs, opset):
    if opset >= 13:
        return _ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None \
            else None
    return a.get("axes")


def fold(node, inputs, opset):
    """inputs: numpy arrays, None for an absent optional input."""
    op, a = node.op_type, attrs(node)
    x = inputs[0] if inputs else None
    if op == "Constant":
        return [constant_value(node)]
    if op == "Identity":
        return [x]
    if op == "ConstantOfShape":
        value = to_array(a["value"], describe(node)) if "value" in a \
            else np.zeros(1, np.float32)
        return [np.full(_ints(x), value.reshape(-1)[0], dtype=value.dtype)]
    if op == "Concat":
        return [np.concatenate(inputs, axis=a.get("axis", 0))]
    if op == "Reshape":
        shape = _ints(inputs[1]) if opset >= 5 else a["shape"]
        return [_reshape(x, shape, a.get("allowzero", 0))]
    if op == "Transpose":
        return [np.transpose(x, a.get("perm"))]
    if op == "Cast":
        return [x.astype(mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])]
    if op == "Slice":
        if opset < 10:
            return [_slice(x, a["starts"], a["ends"], a.get("axes"), None)]
        opt = [_ints(v) if v is not None else None
               for v in (inputs + [None, None])[3:5]]
        return [_slice(x, _ints(inputs[1]), _ints(inputs[2]), *opt)]
    if op == "Unsqueeze":
        out = x
        for axis in sorted(v % (x.ndim + len(_axes(node, a, inputs, opset)))
                           for v in _axes(node, a, inputs, opset)):
            out = np.expand_dims(out, axis)
        return [out]
    if op == "Squeeze":
        axes = _axes(node, a, inputs, opset)
        return [np.squeeze(x, axis=None if axes is None else tuple(axes))]
    if op == "Gather":
        return [np.take(x, inputs[1], axis=a.get("axis", 0))]
    if op == "Shape":
        shape = np.array(x.shape, dtype=np.int64)
        return [shape[a.get("start", 0):a.get("end", len(shape))]]
    if op in ("Add", "Sub", "Mul", "Div"):
        y = inputs[1]
        return [{"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                 "Div": _divide}[op](x, y)]
    if op in ("Floor", "Ceil"):
        return [np.floor(x) if op == "Floor" else np.ceil(x)]
    return None
