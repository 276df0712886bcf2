"""tools/train's parts: the transformer network, the VGG-16 loss network,
the perceptual loss, content and style images, checkpoints, progress."""
