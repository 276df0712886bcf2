"""The perceptual loss of Johnson et al. (2016): content on VGG-16 relu2_2,
style on the Gram matrices of relu1_2, relu2_2, relu3_3 and relu4_3, and
total variation, weighted alpha * content + beta * style + gamma * tv."""

import torch
from torch.nn.functional import mse_loss

from .vgg import LAYER_NAMES

CONTENT_LAYER = LAYER_NAMES.index("relu2_2")


def gram(f):
    """[B, C, H, W] -> [B, C, C], normalised by C*H*W so that the style
    loss does not depend on the image size (fast_neural_style's scale)."""
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return f.bmm(f.transpose(1, 2)) / (c * h * w)


def total_variation(y):
    """Mean squared difference of neighbouring pixels, across and down, in
    the output's 0..255 units: it penalises high-frequency noise."""
    return (torch.mean((y[:, :, :, 1:] - y[:, :, :, :-1]) ** 2)
            + torch.mean((y[:, :, 1:, :] - y[:, :, :-1, :]) ** 2))


class PerceptualLoss(torch.nn.Module):
    def __init__(self, vgg, style_image, alpha, beta, gamma):
        """style_image: [1, 3, H, W] in 0..255 on the loss's device."""
        super().__init__()
        self.vgg = vgg
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        with torch.no_grad():
            self.style_grams = [gram(f) for f in vgg(style_image)]

    def forward(self, x, y):
        """x: the content batch, y: the network's output for it; returns
        (total, content, style, tv), each weighted."""
        fx = self.vgg(x)
        fy = self.vgg(y)
        content = mse_loss(fy[CONTENT_LAYER], fx[CONTENT_LAYER].detach())
        style = 0.0
        for f, gs in zip(fy, self.style_grams):
            gy = gram(f)
            style = style + mse_loss(gy, gs.expand_as(gy))
        tv = total_variation(y)
        content = self.alpha * content
        style = self.beta * style
        tv = self.gamma * tv
        return content + style + tv, content, style, tv
