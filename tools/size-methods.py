#!/usr/bin/python3
"""Upsampling methods for the network below the frame's size, compared.

    size-methods.py DIR WxH NETWxNETH
    size-methods.py DIR WxH NETWxNETH --picture OUT.jpg w:h:x:y NAME

For every NAME.in.rgb (the frame, WxH rgb24), NAME.full.rgb (the network's
output at WxH) and NAME.low.rgb (its output at NETWxNETH on the frame
reduced by area averaging) in DIR, as tools/size-compare.sh leaves them,
brings the low-resolution output to WxH by each method and prints, for
each method, its PSNR against the full-size output as the gain over
bilinear upsampling (mean, worst and best over the frames), and how much
texture it keeps: the RMS of its pixel differences (horizontal and
vertical neighbours) against the full-size output's, in percent.

Methods: bilinear, bicubic, joint bilateral upsampling (Kopf et al. 2007),
the guided filter (He et al.) with a grey and with a colour guide, fitted
at the network's size and applied at the frame's, and the engine's guided
upsampling (engine/frame/resize.h), which fits the same colour model but keeps
the network's own output and adds to it only the frame's detail: over a
few window radii, regularisations and averaging radii; and the engine's
own output, NAME.guided.rgb, where there is one.

--picture writes a crop of NAME at WxH: the full-size output, bilinear,
the guided filter and the engine's (NAME.guided.rgb), side by side.
Needs numpy and OpenCV (Debian: python3-numpy, python3-opencv).
"""
import glob
import os
import sys

import cv2
import numpy as np


def box(x, r):
    """Mean over the (2r+1)^2 window, clipped to the image."""
    k = 2 * r + 1
    ones = np.ones(x.shape[:2], np.float32)
    n = cv2.boxFilter(ones, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    s = cv2.boxFilter(x, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return s / (n[..., None] if x.ndim == 3 else n)


def up(x, W, H):
    """Bilinear, pixel centres aligned."""
    return cv2.resize(x, (W, H), interpolation=cv2.INTER_LINEAR)


def colour_model(g_lo, p, r, eps):
    """A (h w 3 3) and b (h w 3) of the fit p ~ A g_lo + b per window."""
    h, w, _ = g_lo.shape
    mi, mp = box(g_lo, r), box(p, r)
    cov = np.empty((h, w, 3, 3), np.float32)
    cross = np.empty((h, w, 3, 3), np.float32)
    for i in range(3):
        for j in range(3):
            cov[..., i, j] = box(g_lo[..., i] * g_lo[..., j], r) - mi[..., i] * mi[..., j]
            cross[..., i, j] = box(p[..., i] * g_lo[..., j], r) - mp[..., i] * mi[..., j]
    a = cross @ np.linalg.inv(cov + eps * np.eye(3, dtype=np.float32))
    return a, mp - np.einsum('hwcj,hwj->hwc', a, mi)


def apply_model(g, a, b):
    H, W, _ = g.shape
    h, w = b.shape[:2]
    a = up(a.reshape(h, w, 9), W, H).reshape(H, W, 3, 3)
    return np.einsum('hwcj,hwj->hwc', a, g) + up(b, W, H)


def guided_colour(g, g_lo, p, r, eps, mean_r):
    """The guided filter: p replaced by its local model of g."""
    a, b = colour_model(g_lo, p, r, eps)
    h, w = b.shape[:2]
    return apply_model(g, box(a.reshape(h, w, 9), mean_r).reshape(h, w, 3, 3), box(b, mean_r))


def guided_detail(g, g_lo, p, r, eps, mean_r):
    """The engine's: the model averaged, then moved through each network
    pixel's own output: p_k + A'_k (g - g_lo_k), blended bilinearly."""
    a, _ = colour_model(g_lo, p, r, eps)
    h, w = p.shape[:2]
    a = box(a.reshape(h, w, 9), mean_r).reshape(h, w, 3, 3)
    return apply_model(g, a, p - np.einsum('hwcj,hwj->hwc', a, g_lo))


def guided_grey(g, g_lo, p, r, eps, mean_r):
    y, y_lo = g.mean(axis=2), g_lo.mean(axis=2)
    mi, mp = box(y_lo, r), box(p, r)
    a = (box(y_lo[..., None] * p, r) - mi[..., None] * mp) / \
        (box(y_lo * y_lo, r) - mi * mi + eps)[..., None]
    b = mp - a * mi[..., None]
    H, W = y.shape
    return up(box(a, mean_r), W, H) * y[..., None] + up(box(b, mean_r), W, H)


def joint_bilateral(g, g_lo, p, radius, sigma_s, sigma_r):
    H, W, _ = g.shape
    h, w, _ = g_lo.shape
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    u, v = (xs + 0.5) * w / W - 0.5, (ys + 0.5) * h / H - 0.5
    u0, v0 = np.floor(u).astype(int), np.floor(v).astype(int)
    num, den = np.zeros((H, W, 3), np.float32), np.zeros((H, W), np.float32)
    for dy in range(1 - radius, radius + 1):
        for dx in range(1 - radius, radius + 1):
            qx, qy = np.clip(u0 + dx, 0, w - 1), np.clip(v0 + dy, 0, h - 1)
            k = np.exp(-((qx - u) ** 2 + (qy - v) ** 2) / (2 * sigma_s ** 2) -
                       ((g - g_lo[qy, qx]) ** 2).sum(axis=2) / (2 * sigma_r ** 2))
            num += k[..., None] * p[qy, qx]
            den += k
    return num / den[..., None]


def as_pixels(a):
    return np.clip(np.floor(a + 0.5), 0, 255)


def psnr(a, ref):
    return 10 * np.log10(255 ** 2 / ((as_pixels(a) - ref) ** 2).mean())


def texture(a):
    a = as_pixels(a)
    return np.sqrt(((a[:, 1:] - a[:, :-1]) ** 2).mean() + ((a[1:] - a[:-1]) ** 2).mean())


def picture(argv, W, H, w, h):
    out, crop, name = argv[5:8]
    cw, ch, cx, cy = map(int, crop.split(':'))
    def load(suffix, ww, hh):
        return np.fromfile(os.path.join(argv[1], name + suffix), np.uint8) \
            .reshape(hh, ww, 3).astype(np.float32)
    g, low = load('.in.rgb', W, H) / 255, load('.low.rgb', w, h)
    g_lo = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA)
    panels = [load('.full.rgb', W, H), up(low, W, H),
              guided_colour(g, g_lo, low, 4, 1e-3, 2), load('.guided.rgb', W, H)]
    gap = np.full((ch, 4, 3), 255, np.float32)
    row = []
    for p in panels:
        row += [as_pixels(p)[cy:cy + ch, cx:cx + cw], gap]
    cv2.imwrite(out, cv2.cvtColor(np.hstack(row[:-1]).astype(np.uint8), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 85])
    return 0


def main(argv):
    if len(argv) not in (4, 8) or (len(argv) == 8 and argv[4] != '--picture'):
        sys.exit(__doc__.strip())
    W, H = map(int, argv[2].split('x'))
    w, h = map(int, argv[3].split('x'))
    if len(argv) == 8:
        return picture(argv, W, H, w, h)
    names = sorted(f[:-len('.full.rgb')] for f in glob.glob(os.path.join(argv[1], '*.full.rgb')))
    gains, textures = {}, {}
    for name in names:
        def load(suffix, ww, hh):
            return np.fromfile(name + suffix, np.uint8).reshape(hh, ww, 3).astype(np.float32)
        try:
            g, full, low = load('.in.rgb', W, H), load('.full.rgb', W, H), load('.low.rgb', w, h)
        except (OSError, ValueError):
            continue  # another size, or not all three frames
        g /= 255
        g_lo = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA)
        res = {'bilinear': up(low, W, H),
               'bicubic': cv2.resize(low, (W, H), interpolation=cv2.INTER_CUBIC),
               'joint bilateral, 6x6, sigma 1 px, 0.2': joint_bilateral(g, g_lo, low, 3, 1.0, 0.2)}
        for r in (1, 2, 4):
            for eps in (1e-4, 1e-3, 1e-2):
                res[f'guided filter, colour, r{r} eps {eps:g} mean r{max(r // 2, 1)}'] = \
                    guided_colour(g, g_lo, low, r, eps, max(r // 2, 1))
                res[f'guided filter, grey, r{r} eps {eps:g} mean r{max(r // 2, 1)}'] = \
                    guided_grey(g, g_lo, low, r, eps, max(r // 2, 1))
                for mean_r in sorted({0, max(r // 2, 1)}):
                    res[f'engine (output kept), r{r} eps {eps:g} mean r{mean_r}'] = \
                        guided_detail(g, g_lo, low, r, eps, mean_r)
        if os.path.exists(name + '.guided.rgb'):
            res['nst size= (the engine itself)'] = load('.guided.rgb', W, H)
        base, full_texture = psnr(res['bilinear'], full), texture(full)
        print(f'{os.path.basename(name)}: bilinear {base:.2f} dB', flush=True)
        for k, v in res.items():
            gains.setdefault(k, []).append(psnr(v, full) - base)
            textures.setdefault(k, []).append(100 * texture(v) / full_texture)
    if not gains:
        sys.exit(f'no frames of {W}x{H} and {w}x{h} in {argv[1]}')
    print(f'\n{len(gains["bilinear"])} frames; PSNR against the full-size output as the '
          'gain over bilinear, in dB; texture in % of the full-size output\'s:\n')
    print('| method | PSNR gain, mean | worst | best | texture |\n|---|---|---|---|---|')
    for k, v in sorted(gains.items(), key=lambda kv: -np.mean(kv[1])):
        print(f'| {k} | {np.mean(v):+.2f} | {np.min(v):+.2f} | {np.max(v):+.2f} | '
              f'{np.mean(textures[k]):.0f}% |')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
