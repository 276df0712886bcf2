"""An ONNX graph of the Johnson / PyTorch fast-style-transfer family as a
stylebin.Graph: the ONNX Model Zoo's mosaic-9.onnx and friends, or
torch.onnx.export of fast_neural_style's TransformerNet at any opset.

The family is recognised by what the graph is made of, whatever its file
name or the names inside it: Pad (reflect, or zeros) feeding a Conv, Conv
with bias and kernel // 2 padding, InstanceNormalization, Relu, Add of two
tensors (residual), nearest Upsample / Resize by an integer factor. Scalar
Mul / Div / Add / Sub on the input become the input range, and Tanh, scalar
affine ops and Clip after the last layer become the output op (whose clamp
to 0..255 is always there). Weights come from initializers, Constant nodes
and constant subgraphs (onnx_fold). The first node that is none of these
is named in the ConvertError.
"""

import math
from fractions import Fraction

import numpy as np

from .arrays import conv_hwio, floats
from .onnx_fold import attrs, constant_value, describe, fold, to_array
from .stylebin import (PAD_REFLECT, PAD_SYMMETRIC, ConvertError, Graph)

DEFAULT_EPS = 1e-5
MAX_UPSAMPLE = 4  # the engine's upsample op takes factors 2..4


class Act:
    """A tensor the network computes: the output of layer `layer`
    (Graph.INPUT for the graph input), ch channels, h x w (None where the
    graph leaves the size open).

    pad: (top, left, bottom, right, mode, Pad node) of a Pad that only a
    Conv may consume. affine (m, c): the graph input scaled, m * x + c.
    tail: (tanh, m, c, lo, hi, node) once output-only ops were applied:
    clamp(m * f(x) + c, lo, hi), f = tanh or identity."""

    def __init__(self, layer, ch, h, w, pad=None, affine=(1.0, 0.0),
                 tail=None):
        self.layer, self.ch, self.h, self.w = layer, ch, h, w
        self.pad, self.affine, self.tail = pad, affine, tail

    def derive(self, **changes):
        fields = dict(layer=self.layer, ch=self.ch, h=self.h, w=self.w,
                      pad=self.pad, affine=self.affine, tail=self.tail)
        fields.update(changes)
        return Act(**fields)


def _load(path):
    try:
        import onnx
    except ImportError:
        raise ConvertError("reading ONNX needs python3-onnx (apt-get "
                           "install python3-onnx)")
    try:
        return onnx.load(path)
    except OSError as e:
        raise ConvertError("cannot read it: %s" % (e.strerror or e))
    except Exception as e:  # protobuf's DecodeError, external data errors
        why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConvertError("not an ONNX model (%s)" % why)


def _opset(model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    raise ConvertError("the model imports no version of the standard "
                       "ONNX operator set")


def _is_replication(factor, ctm, nearest_mode):
    """Whether Resize's nearest mode with these attributes repeats each
    input pixel factor times (the engine's upsample), per the ONNX
    formulas, checked exactly on input lengths 1..16. Every mode but
    align_corners maps x to a function of x / factor, so this holds for
    all lengths; align_corners with round_prefer_floor passes only at
    factor 2, where x * (L - 1) / (2L - 1) rounds to x // 2 for every L."""
    for length in range(1, 17):
        out_len = length * factor
        for x in range(out_len):
            if ctm == "asymmetric":
                src = Fraction(x, factor)
            elif ctm == "half_pixel" or (ctm == "pytorch_half_pixel"
                                          and out_len > 1):
                src = Fraction(2 * x + 1, 2 * factor) - Fraction(1, 2)
            elif ctm == "pytorch_half_pixel":
                src = Fraction(0)
            elif ctm == "tf_half_pixel_for_nn":
                src = Fraction(2 * x + 1, 2 * factor)
            elif ctm == "align_corners":
                src = Fraction(x * (length - 1), max(out_len - 1, 1))
            else:
                return False
            floor, frac = math.floor(src), src - math.floor(src)
            if nearest_mode == "floor":
                i = floor
            elif nearest_mode == "ceil":
                i = math.ceil(src)
            elif nearest_mode == "round_prefer_floor":
                i = floor + (1 if frac > Fraction(1, 2) else 0)
            elif nearest_mode == "round_prefer_ceil":
                i = floor + (1 if frac >= Fraction(1, 2) else 0)
            else:
                return False
            if min(max(i, 0), length - 1) != x // factor:
                return False
    return True


class _Importer:
    def __init__(self, model):
        self.model = model
        self.opset = _opset(model)
        self.g = Graph()
        self.values = {}  # name -> Act or numpy array (a constant)
        self.input_affine = None
        self.names = set()
        graph = model.graph
        for t in graph.initializer:
            self.values[t.name] = to_array(t, "initializer '%s'" % t.name)

    # --- the walk

    def run(self):
        graph = self.model.graph
        self._input(graph)
        if len(graph.output) != 1:
            raise ConvertError("the graph has %d outputs, a style network "
                               "has one" % len(graph.output))
        needed = self._needed(graph)
        for node in graph.node:
            if any(o in needed for o in node.output):
                self._node(node)
        return self._output(graph.output[0].name)

    def _input(self, graph):
        inputs = [i for i in graph.input if i.name not in self.values]
        if len(inputs) != 1:
            raise ConvertError("the graph has %d inputs (%s), a style "
                               "network has one image"
                               % (len(inputs), ", ".join(i.name
                                                         for i in inputs)))
        t = inputs[0].type.tensor_type
        if t.elem_type not in (0, 1):  # undefined, FLOAT
            raise ConvertError("input '%s' is not float32" % inputs[0].name)
        dims = [d.dim_value if d.HasField("dim_value") else None
                for d in t.shape.dim] if t.HasField("shape") else []
        if dims and (len(dims) != 4 or dims[1] not in (3, None)):
            raise ConvertError("input '%s' has shape %s, expected [N, 3, H, "
                               "W]" % (inputs[0].name, dims))
        h, w = (dims[2], dims[3]) if dims else (None, None)
        self.values[inputs[0].name] = Act(Graph.INPUT, 3, h or None,
                                          w or None)

    def _needed(self, graph):
        """The values the output depends on; other nodes are ignored."""
        producer = {o: n for n in graph.node for o in n.output}
        needed, todo = set(), [graph.output[0].name]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            if name in producer:
                todo.extend(i for i in producer[name].input if i)
        return needed

    def _get(self, node, i):
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        if name not in self.values:
            raise ConvertError("%s reads '%s', which nothing computed before "
                               "it (the nodes are not in topological order, "
                               "or it is missing)" % (describe(node), name))
        return self.values[name]

    def _const(self, node, i, what):
        v = self._get(node, i)
        if not isinstance(v, np.ndarray):
            raise ConvertError("%s: its %s is computed by the network, the "
                               "importer needs a constant"
                               % (describe(node), what))
        return v

    def _act(self, node, i, pad_ok=False):
        """Input i as a layer input: the Act, its layer index fixed."""
        v = self._get(node, i)
        if not isinstance(v, Act):
            raise ConvertError("%s: input %d is a constant where the "
                               "network's tensor should be"
                               % (describe(node), i))
        if v.pad is not None and not pad_ok:
            raise ConvertError("%s feeds %s: a Pad is supported only right "
                               "before a Conv" % (describe(v.pad[5]),
                                                  describe(node)))
        if v.tail is not None:
            raise ConvertError("%s: only the network's output may follow "
                               "it, not %s" % (describe(v.tail[5]),
                                               describe(node)))
        if v.layer == Graph.INPUT:
            if self.input_affine not in (None, v.affine):
                raise ConvertError("%s: the input is scaled differently "
                                   "here than elsewhere" % describe(node))
            self.input_affine = v.affine
        return v

    def _set(self, node, value):
        self.values[node.output[0]] = value

    def _node(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise ConvertError("%s: operator domain '%s' is not supported"
                               % (describe(node), node.domain))
        inputs = [self._get(node, i) for i in range(len(node.input))]
        if node.op_type == "Constant":
            self._set(node, constant_value(node))
            return
        if all(isinstance(v, np.ndarray) or v is None for v in inputs) or (
                node.op_type == "Shape" and isinstance(inputs[0], Act)):
            if self._fold(node, inputs):
                return
        handler = getattr(self, "_op_" + node.op_type, None)
        if handler is None:
            raise ConvertError("%s is not supported: the importer takes the "
                               "Johnson / PyTorch fast-style-transfer family "
                               "(Pad, Conv, InstanceNormalization, Relu, Add, "
                               "Upsample / Resize, and scalar ops at the "
                               "input and output)" % describe(node))
        handler(node, attrs(node))

    def _fold(self, node, inputs):
        if node.op_type == "Shape":
            v = inputs[0]
            if v.h is None or v.w is None:
                raise ConvertError("%s: the graph computes a size from the "
                                   "input's, which it leaves open; export it "
                                   "with a fixed input size" % describe(node))
            inputs = [np.broadcast_to(np.float32(0), (1, v.ch, v.h, v.w))]
        try:
            out = fold(node, inputs, self.opset)
        except ConvertError:
            raise
        except Exception as e:
            raise ConvertError("%s: cannot compute it from its constant "
                               "inputs (%s)" % (describe(node), e))
        if out is None:
            return False
        for name, value in zip(node.output, out):
            self.values[name] = np.asarray(value)
        return True

    # --- layers

    def _op_Identity(self, node, a):
        self._set(node, self._get(node, 0))

    def _op_Pad(self, node, a):
        x = self._act(node, 0)
        mode = a.get("mode", "constant")
        if self.opset < 11:
            pads, value = a.get("pads", a.get("paddings")), a.get("value", 0)
        else:
            pads = self._const(node, 1, "pads")
            value = self._get(node, 2)
            if len(node.input) > 3 and node.input[3]:
                raise ConvertError("%s: Pad with axes is not supported"
                                   % describe(node))
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        if len(pads) != 8 or pads[0] or pads[1] or pads[4] or pads[5]:
            raise ConvertError("%s: pads %s; only height and width may be "
                               "padded" % (describe(node), pads))
        if mode not in ("reflect", "constant"):
            raise ConvertError("%s: Pad mode '%s' is not supported "
                               "(reflect, or constant zeros)"
                               % (describe(node), mode))
        if mode == "constant" and value is not None and np.any(
                np.asarray(value) != 0):
            raise ConvertError("%s: Pad with a constant other than 0 is not "
                               "supported" % describe(node))
        self._set(node, x.derive(pad=(pads[2], pads[3], pads[6], pads[7],
                                      mode, node)))

    def _op_Conv(self, node, a):
        x = self._act(node, 0, pad_ok=True)
        w = self._const(node, 1, "weight")
        b = self._get(node, 2)
        if b is not None and not isinstance(b, np.ndarray):
            raise ConvertError("%s: its bias is not a constant"
                               % describe(node))
        if w.ndim != 4 or w.shape[1] != x.ch or w.shape[2] != w.shape[3] \
                or w.shape[2] % 2 == 0:
            raise ConvertError("%s: weight shape %s; the importer takes "
                               "square odd kernels over %d input channels"
                               % (describe(node), list(w.shape), x.ch))
        out_ch, k = w.shape[0], w.shape[2]
        strides = list(a.get("strides", [1, 1]))
        if a.get("group", 1) != 1 or any(d != 1 for d in
                                         a.get("dilations", [1, 1])):
            raise ConvertError("%s: grouped or dilated convolution is not "
                               "supported" % describe(node))
        if len(strides) != 2 or strides[0] != strides[1]:
            raise ConvertError("%s: strides %s; only equal strides are "
                               "supported" % (describe(node), strides))
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise ConvertError("%s: auto_pad %s is not supported"
                               % (describe(node), a["auto_pad"]))
        if b is not None and b.shape != (out_ch,):
            raise ConvertError("%s: bias shape %s, expected [%d]"
                               % (describe(node), list(b.shape), out_ch))
        own = list(a.get("pads", [0, 0, 0, 0]))
        if x.pad is not None:
            if any(own):
                raise ConvertError("%s: padded by a Pad and by itself"
                                   % describe(node))
            pads, mode = list(x.pad[:4]), x.pad[4]
        else:
            pads, mode = own, "constant"
        if any(p != k // 2 for p in pads):
            raise ConvertError("%s: padding %s (top, left, bottom, right) "
                               "around a %dx%d kernel; the engine pads "
                               "kernel // 2 on every side"
                               % (describe(node), pads, k, k))
        padding = PAD_REFLECT if mode == "reflect" and k > 1 else \
            PAD_SYMMETRIC
        s = strides[0]
        name = self._name(node.input[1], "conv")
        layer = self.g.conv(
            x.layer, name, conv_hwio(w, describe(node) + " weight"), k,
            out_ch, s, padding=padding,
            bias=None if b is None else floats(b, describe(node) + " bias"))
        size = [None if d is None else (d + 2 * (k // 2) - k) // s + 1
                for d in (x.h, x.w)]
        self._set(node, Act(layer, out_ch, *size))

    def _op_InstanceNormalization(self, node, a):
        x = self._act(node, 0)
        scale = self._const(node, 1, "scale")
        shift = self._const(node, 2, "B")
        if scale.shape != (x.ch,) or shift.shape != (x.ch,):
            raise ConvertError("%s: scale %s and B %s for %d channels"
                               % (describe(node), list(scale.shape),
                                  list(shift.shape), x.ch))
        name = self._name(node.input[1], "norm")
        eps = float(a.get("epsilon", DEFAULT_EPS))
        if not eps > 0:
            raise ConvertError("%s: epsilon %r" % (describe(node), eps))
        layer = self.g.instance_norm(
            x.layer, name, floats(scale, describe(node) + " scale"),
            floats(shift, describe(node) + " B"), eps)
        self._set(node, x.derive(layer=layer, affine=(1.0, 0.0)))

    def _op_Relu(self, node, a):
        x = self._act(node, 0)
        self._set(node, x.derive(layer=self.g.relu(x.layer),
                                 affine=(1.0, 0.0)))

    def _upsample(self, node, x, factor):
        self._set(node, Act(self.g.upsample(x.layer, factor), x.ch,
                            *[None if d is None else d * factor
                              for d in (x.h, x.w)]))

    def _factor(self, node, scales):
        """The integer factor of scales [1, 1, f, f]."""
        s = [float(v) for v in np.asarray(scales).reshape(-1)]
        if (len(s) != 4 or s[0] != 1 or s[1] != 1 or s[2] != s[3]
                or s[2] != int(s[2]) or not 2 <= s[2] <= MAX_UPSAMPLE):
            raise ConvertError("%s: scales %s; the engine upsamples height "
                               "and width alike by 2..%d"
                               % (describe(node), s, MAX_UPSAMPLE))
        return int(s[2])

    def _op_Upsample(self, node, a):
        x = self._act(node, 0)
        if a.get("mode", "nearest") != "nearest":
            raise ConvertError("%s: mode '%s'; only nearest is supported"
                               % (describe(node), a["mode"]))
        scales = a["scales"] if "scales" in a else self._const(node, 1,
                                                              "scales")
        self._upsample(node, x, self._factor(node, scales))

    def _op_Resize(self, node, a):
        x = self._act(node, 0)
        if a.get("mode", "nearest") != "nearest":
            raise ConvertError("%s: mode '%s'; only nearest is supported"
                               % (describe(node), a["mode"]))
        if self.opset < 11:  # Resize-10 is Upsample-9
            self._upsample(node, x, self._factor(node, self._const(
                node, 1, "scales")))
            return
        if "axes" in a:
            raise ConvertError("%s: Resize with axes is not supported"
                               % describe(node))
        scales = self._get(node, 2)
        if isinstance(scales, np.ndarray) and scales.size == 0:
            scales = None
        if scales is None:
            sizes = self._const(node, 3, "sizes")
            if x.h is None or x.w is None:
                raise ConvertError("%s: Resize to fixed sizes where the "
                                   "graph leaves the input size open"
                                   % describe(node))
            sizes = [int(v) for v in sizes.reshape(-1)]
            if len(sizes) != 4 or sizes[2] % x.h or sizes[3] % x.w:
                raise ConvertError("%s: sizes %s from %dx%d is not an "
                                   "integer factor" % (describe(node),
                                                       sizes, x.h, x.w))
            scales = [sizes[0], sizes[1] / x.ch, sizes[2] // x.h,
                      sizes[3] // x.w]
        elif not isinstance(scales, np.ndarray):
            raise ConvertError("%s: its scales are computed by the network"
                               % describe(node))
        factor = self._factor(node, scales)
        ctm = a.get("coordinate_transformation_mode", "half_pixel")
        nearest = a.get("nearest_mode", "round_prefer_floor")
        if not _is_replication(factor, ctm, nearest):
            raise ConvertError("%s: nearest resize with coordinate "
                               "transformation '%s' and nearest_mode '%s' "
                               "does not repeat pixels; not supported"
                               % (describe(node), ctm, nearest))
        self._upsample(node, x, factor)

    # --- Add: residual, or scalar on the input / output

    def _scalar(self, node, v):
        if not isinstance(v, np.ndarray) or v.size != 1:
            raise ConvertError("%s: only a scalar constant operand is "
                               "supported (per-channel or tensor operands "
                               "are not)" % describe(node))
        return float(v.reshape(-1)[0])

    def _affine(self, node, m, c):
        """x -> m * x + c applied to the one Act operand of node."""
        x = next(v for v in (self._get(node, 0), self._get(node, 1))
                 if isinstance(v, Act))
        if x.pad is not None:
            self._act(node, 0 if isinstance(self._get(node, 0), Act) else 1)
        if not math.isfinite(m) or not math.isfinite(c) or m == 0:
            raise ConvertError("%s: scaling by %r, %r" % (describe(node),
                                                          m, c))
        if x.layer == Graph.INPUT and x.tail is None:
            am, ac = x.affine
            self._set(node, x.derive(affine=(m * am, m * ac + c)))
            return
        tanh, tm, tc, lo, hi, _ = x.tail or (False, 1.0, 0.0, -math.inf,
                                              math.inf, None)
        lo, hi = sorted((m * lo + c, m * hi + c))
        self._set(node, x.derive(tail=(tanh, m * tm, m * tc + c, lo, hi,
                                       node)))

    def _binary(self, node):
        """(Act, constant, Act is the first operand) of a scalar op."""
        x, y = self._get(node, 0), self._get(node, 1)
        if isinstance(x, Act) and not isinstance(y, Act):
            return x, self._scalar(node, y), True
        if isinstance(y, Act) and not isinstance(x, Act):
            return y, self._scalar(node, x), False
        raise ConvertError("%s of two network tensors is not supported"
                           % describe(node))

    def _op_Add(self, node, a):
        x, y = self._get(node, 0), self._get(node, 1)
        if isinstance(x, Act) and isinstance(y, Act):
            x, y = self._act(node, 0), self._act(node, 1)
            if x.ch != y.ch:
                raise ConvertError("%s: adds %d and %d channels"
                                   % (describe(node), x.ch, y.ch))
            self._set(node, Act(self.g.add(x.layer, y.layer), x.ch,
                                x.h or y.h, x.w or y.w))
            return
        _, k, _ = self._binary(node)
        self._affine(node, 1.0, k)

    def _op_Sub(self, node, a):
        _, k, act_first = self._binary(node)
        self._affine(node, *((1.0, -k) if act_first else (-1.0, k)))

    def _op_Mul(self, node, a):
        _, k, _ = self._binary(node)
        self._affine(node, k, 0.0)

    def _op_Div(self, node, a):
        _, k, act_first = self._binary(node)
        if not act_first or k == 0:
            raise ConvertError("%s: only division of the network's tensor by "
                               "a non-zero scalar is supported"
                               % describe(node))
        self._affine(node, 1.0 / k, 0.0)

    # --- output-only ops

    def _op_Tanh(self, node, a):
        x = self._get(node, 0)
        if not isinstance(x, Act) or x.tail is not None or \
                x.layer == Graph.INPUT:
            raise ConvertError("%s: tanh is supported only on the last "
                               "layer's result" % describe(node))
        self._act(node, 0)
        self._set(node, x.derive(tail=(True, 1.0, 0.0, -math.inf, math.inf,
                                       node)))

    def _op_Clip(self, node, a):
        x = self._get(node, 0)
        if not isinstance(x, Act) or x.layer == Graph.INPUT:
            raise ConvertError("%s: Clip is supported only after the last "
                               "layer" % describe(node))
        if x.tail is None:
            self._act(node, 0)
        if self.opset < 11:
            lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
        else:
            lo, hi = [self._scalar(node, v) if v is not None else d
                      for v, d in ((self._get(node, 1), -math.inf),
                                   (self._get(node, 2), math.inf))]
        tanh, m, c, tlo, thi, _ = x.tail or (False, 1.0, 0.0, -math.inf,
                                              math.inf, None)
        self._set(node, x.derive(tail=(tanh, m, c, max(tlo, lo),
                                       min(thi, hi), node)))

    # --- the end

    def _output(self, name):
        if name not in self.values:
            raise ConvertError("the graph output '%s' is computed by no node"
                               % name)
        x = self.values[name]
        if not isinstance(x, Act) or x.layer == Graph.INPUT or x.pad:
            raise ConvertError("the graph output '%s' is not the result of "
                               "a layer" % name)
        if x.ch != 3:
            raise ConvertError("the graph output has %d channels, not 3"
                               % x.ch)
        tanh, m, c, lo, hi, _ = x.tail or (False, 1.0, 0.0, -math.inf,
                                            math.inf, None)
        lo, hi = max(lo, 0.0), min(hi, 255.0)  # pixels are 0..255
        if not lo < hi:
            raise ConvertError("the output is clamped to an empty range")
        self.g.output(x.layer, tanh=tanh, mul=m, add=c, lo=lo, hi=hi)
        m, c = self.input_affine or (1.0, 0.0)
        return self.g, (c, c + 255.0 * m)

    def _name(self, weight_name, kind):
        """A tensor name for the layer: its weight's, shortened to fit
        style.bin's 39 bytes with the .weight / .scale suffix."""
        base = weight_name
        for suffix in (".weight", ".scale"):
            if base.endswith(suffix):
                base = base[:-len(suffix)]
        if len(base.encode("utf-8")) > 32 or base in self.names or not base:
            base = "%s%d" % (kind, len(self.g.layers))
        self.names.add(base)
        return base


def graph_from_onnx(model):
    """(Graph, input range) of an onnx.ModelProto."""
    return _Importer(model).run()


def import_onnx(path):
    """(Graph, input range) for nst-convert."""
    return graph_from_onnx(_load(path))
