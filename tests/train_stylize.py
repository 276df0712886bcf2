"""The trained network run by PyTorch on a raw rgb24 frame, for
tests/test_train.sh to hold the filter's output against:

    train_stylize.py MODEL.pth W H IN.rgb OUT.rgb

The output is clamped to 0..255 and rounded, as the filter's output op does,
and cropped to W x H: for a size that is not a multiple of 4 the network's
output is larger (the stride-2 convolutions round up), and the filter keeps
its top-left W x H.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
from nsttrain.transformer import TransformerNet  # noqa: E402


def main():
    pth, w, h, src, dst = sys.argv[1:]
    w, h = int(w), int(h)
    net = TransformerNet()
    net.load_state_dict(torch.load(pth, map_location="cpu", weights_only=True))
    net.eval()
    with open(src, "rb") as f:
        raw = bytearray(f.read())
    x = torch.frombuffer(raw, dtype=torch.uint8).view(h, w, 3)
    x = x.permute(2, 0, 1).unsqueeze(0).float()
    with torch.no_grad():
        y = net(x)[0, :, :h, :w].clamp(0, 255).round().to(torch.uint8)
    with open(dst, "wb") as f:
        f.write(y.permute(1, 2, 0).contiguous().numpy().tobytes())


if __name__ == "__main__":
    main()
