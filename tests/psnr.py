#!/usr/bin/env python3
"""PSNR in dB between two raw 8-bit files of equal size (e.g. rgb24 frames).

    psnr.py A B     prints the PSNR over all bytes; "inf" when identical.
Exits 1 (with a message) when the sizes differ or a file is empty.
Standard library only.
"""
import math
import sys


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip())
    with open(argv[1], "rb") as f:
        a = f.read()
    with open(argv[2], "rb") as f:
        b = f.read()
    if len(a) != len(b) or not a:
        print(f"sizes differ or empty: {len(a)} and {len(b)} bytes", file=sys.stderr)
        return 1
    sse = sum((x - y) * (x - y) for x, y in zip(a, b))
    if sse == 0:
        print("inf")
    else:
        print(f"{10 * math.log10(255 * 255 * len(a) / sse):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
