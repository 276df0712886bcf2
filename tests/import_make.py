#!/usr/bin/python3
"""Makes the networks and files of tests/test_import.sh (needs Debian's
python3-torch and python3-onnx):

    import_make.py DIR W H IN.rgb

In DIR: the same random TransformerNet (import_transformer_net.random_net)
as net.pth, as net_old.model (the old serialization, with the InstanceNorm
running statistics of the examples' .model files), as net9.onnx (opset 9
like the ONNX Model Zoo's mosaic-9.onnx: Pad reflect, Upsample with a
Constant scales, initializers listed as inputs, input1 / output1), as
net8.onnx (the same at opset 8: Upsample's scales an attribute), as
net13.onnx (opset 13, open input size: Pad's pads computed by a constant
subgraph, Resize), as sized11.onnx (Resize to sizes computed from Shape,
opset 11) and as ort.onnx (net9 cropped to W x H and named
input / output, for tools/ort/nst-ort.js); torch.rgb, its output for
IN.rgb (W x H rgb24), cropped and rounded as libnst does. scaled9.onnx and
scaled13.onnx: a second network that takes 0..1 and ends in tanh * 150 +
127.5 and a clamp (Clip's bounds an attribute at opset 9, inputs at 13).
Then files that must be refused (bad_*)."""

import os
import sys
import warnings

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper, version_converter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from import_transformer_net import (UpsampleConvLayer,  # noqa: E402
                                    random_net)

warnings.filterwarnings("ignore")  # the exporter's advice, not our business


def export(net, path, w, h, opset, names=("input", "output"), dynamic=False,
           as_inputs=False):
    x = torch.zeros(1, 3, h, w)
    axes = {names[0]: {2: "h", 3: "w"}, names[1]: {2: "h", 3: "w"}}
    torch.onnx.export(net, x, path, opset_version=opset,
                      input_names=[names[0]], output_names=[names[1]],
                      dynamic_axes=axes if dynamic else None,
                      keep_initializers_as_inputs=as_inputs)


def reference(net, rgb, w, h):
    """net's output for the rgb24 frame: the top-left W x H, as libnst
    writes pixels (floor(v + 0.5), clamped)."""
    x = torch.from_numpy(rgb.reshape(h, w, 3).astype(np.float32))
    with torch.no_grad():
        y = net(x.permute(2, 0, 1)[None])[0, :, :h, :w]
    y = np.floor(y.permute(1, 2, 0).numpy() + 0.5)
    return np.clip(y, 0, 255).astype(np.uint8)


def cropped(model, w, h):
    """model (input1 -> output1) with its output cropped to W x H, named
    input -> output."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for n in m.graph.node:
        n.input[:] = ["input" if i == "input1" else i for i in n.input]
    m.graph.input[0].name = "input"
    m.graph.node.append(helper.make_node("Slice", ["output1"], ["output"],
                                         starts=[0, 0], ends=[h, w],
                                         axes=[2, 3]))
    m.graph.output[0].CopyFrom(helper.make_tensor_value_info(
        "output", TensorProto.FLOAT, [1, 3, h, w]))
    return m


class SizedUpsampleConvLayer(UpsampleConvLayer):
    """Interpolates to twice the size rather than by a factor of 2: what
    exports of other code do, whose Upsample / Resize then take sizes or
    scales computed from Shape."""

    def forward(self, x):
        x = torch.nn.functional.interpolate(
            x, size=(x.shape[2] * 2, x.shape[3] * 2), mode="nearest")
        return self.conv2d(self.reflection_pad(x))


def sized(net):
    for m in net.modules():
        if isinstance(m, UpsampleConvLayer):
            m.__class__ = SizedUpsampleConvLayer
    return net


class Scaled(torch.nn.Module):
    """Input 0..1, output tanh scaled to 0..255 like Engstrom's network."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        y = torch.tanh(self.net(x / 255.0)) * 150.0 + 127.5
        return torch.clamp(y, 0.0, 255.0)


def small_graph(path, middle, pad_mode="reflect"):
    """input -> Pad 'pad' -> Conv 'conv' (3 -> 3, 3x3) -> middle -> output;
    middle: (nodes, initializers), the nodes reading 'y', the last writing
    'out'."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((3, 3, 3, 3))
                                .astype(np.float32), "conv.weight")
    nodes = [helper.make_node("Pad", ["input"], ["p"], name="pad",
                              mode=pad_mode, pads=[0, 0, 1, 1, 0, 0, 1, 1]),
             helper.make_node("Conv", ["p", "conv.weight"], ["y"],
                              name="conv", kernel_shape=[3, 3])]
    graph = helper.make_graph(
        nodes + middle[0], "bad",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [1, 3, 32, 32])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [w] + middle[1])
    onnx.save(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 10)]), path)


def bad_files(d, sd):
    small_graph(os.path.join(d, "bad_sigmoid.onnx"), (
        [helper.make_node("Sigmoid", ["y"], ["out"], name="sig")], []))
    ones = [numpy_helper.from_array(np.full(3, v, np.float32), n)
            for n, v in (("g", 1), ("b", 0), ("m", 0), ("v", 1))]
    small_graph(os.path.join(d, "bad_batchnorm.onnx"), (
        [helper.make_node("BatchNormalization", ["y", "g", "b", "m", "v"],
                          ["out"], name="bn")], ones))
    small_graph(os.path.join(d, "bad_pad_edge.onnx"), (
        [helper.make_node("Relu", ["y"], ["out"], name="relu")], []),
        pad_mode="edge")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32),
                                     "scales")
    small_graph(os.path.join(d, "bad_resize_linear.onnx"), (
        [helper.make_node("Resize", ["y", "scales"], ["out"], name="up",
                          mode="linear")], [scales]))
    with open(os.path.join(d, "bad_garbage.onnx"), "wb") as f:
        f.write(b"\x0a\xff\xff\xff not a protobuf")
    with open(os.path.join(d, "bad_text.pth"), "w") as f:
        f.write("not a PyTorch file\n")
    torch.save([1, 2, 3], os.path.join(d, "bad_list.pth"))
    missing = dict(sd)
    del missing["res3.in2.bias"]
    torch.save(missing, os.path.join(d, "bad_missing.pth"))
    shape = dict(sd)
    shape["conv2.conv2d.weight"] = torch.zeros(64, 32, 5, 5)
    torch.save(shape, os.path.join(d, "bad_shape.pth"))
    extra = dict(sd)
    extra["res6.conv1.conv2d.weight"] = torch.zeros(128, 128, 3, 3)
    torch.save(extra, os.path.join(d, "bad_extra.pth"))


def main(d, w, h, rgb_path):
    torch.set_num_threads(2)
    rgb = np.fromfile(rgb_path, np.uint8)
    net = random_net(7)
    sd = net.state_dict()
    torch.save(sd, os.path.join(d, "net.pth"))
    old = dict(sd)  # what fast_neural_style's regex removes
    for i in range(1, 6):
        old["in%d.running_mean" % i] = torch.zeros(sd["in%d.bias" % i].shape)
        old["in%d.running_var" % i] = torch.ones(sd["in%d.bias" % i].shape)
    old["res1.in1.running_mean"] = torch.zeros(128)
    torch.save(old, os.path.join(d, "net_old.model"),
               _use_new_zipfile_serialization=False)
    export(net, os.path.join(d, "net9.onnx"), w, h, 9,
           names=("input1", "output1"), as_inputs=True)
    # mosaic-8.onnx's form (Upsample's scales an attribute), which PyTorch
    # no longer exports
    onnx.save(version_converter.convert_version(
        onnx.load(os.path.join(d, "net9.onnx")), 8),
        os.path.join(d, "net8.onnx"))
    export(net, os.path.join(d, "net13.onnx"), w, h, 13, dynamic=True)
    export(sized(random_net(7)), os.path.join(d, "sized11.onnx"), w, h, 11)
    onnx.save(cropped(onnx.load(os.path.join(d, "net9.onnx")), w, h),
              os.path.join(d, "ort.onnx"))
    reference(net, rgb, w, h).tofile(os.path.join(d, "torch.rgb"))
    scaled = Scaled(random_net(11, pixels=False))
    export(scaled, os.path.join(d, "scaled9.onnx"), w, h, 9)
    export(scaled, os.path.join(d, "scaled13.onnx"), w, h, 13)
    bad_files(d, sd)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip())
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
