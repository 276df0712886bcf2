#!/usr/bin/python3
"""Runs an ONNX style network with OpenCV's DNN module, an ONNX runtime
independent of nst-convert and libnst, on one rgb24 frame:

    import_opencv.py MODEL.onnx W H IN.rgb OUT.rgb

The input goes in as RGB 0..255 [1, 3, H, W]; of the output, the top-left
W x H is kept (the network may return a larger image, libnst keeps the same
region), rounded as libnst does (floor(v + 0.5)) and clamped to 0..255.
Prints the output's size as the network returned it."""

import sys

import cv2
import numpy as np


def main(model, w, h, src, dst):
    rgb = np.fromfile(src, np.uint8).reshape(h, w, 3)
    net = cv2.dnn.readNetFromONNX(model)
    net.setInput(np.ascontiguousarray(
        rgb.astype(np.float32).transpose(2, 0, 1)[None]))
    y = net.forward()
    print("output %dx%d" % (y.shape[3], y.shape[2]))
    y = np.floor(y[0, :, :h, :w].transpose(1, 2, 0) + 0.5)
    np.clip(y, 0, 255).astype(np.uint8).tofile(dst)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip())
    cv2.setNumThreads(2)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
         sys.argv[5])
