"""Adversarial training on the input embeddings: FGM and PGD.

The perturbation is added to the output of the input-embedding module by a
forward hook, so it works when the embedding matrix itself is frozen (LoRA,
IA3, freezing) and leaves the weights untouched. The gradient with respect to
the embeddings comes from a zero "probe" tensor that the hook adds to that output.
"""

from __future__ import annotations


class EmbeddingAttack:
    """A forward hook on the input embeddings that adds a probe and an optional offset."""

    def __init__(self, embedding_module):
        self.active = False
        self.offset = None
        self.probe = None
        self.handle = embedding_module.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        if not self.active:
            return None
        import torch

        self.probe = torch.zeros_like(output, requires_grad=True)
        perturbed = output + self.probe
        if self.offset is not None:
            perturbed = perturbed + self.offset.to(output.dtype)
        return perturbed

    def remove(self) -> None:
        self.handle.remove()


def _normalised(gradient, scale: float):
    import torch

    norm = torch.linalg.vector_norm(gradient.float())
    if not torch.isfinite(norm) or norm == 0:
        return None
    return scale * gradient / norm


def _project(offset, epsilon: float):
    import torch

    norm = torch.linalg.vector_norm(offset.float())
    if norm > epsilon:
        offset = offset * (epsilon / norm)
    return offset


def adversarial_backward(attack: EmbeddingAttack, method: str, epsilon: float, alpha: float, steps: int,
                         compute_loss, backward):
    """Run the extra forward and backward passes of FGM or PGD after the clean backward pass.

    ``attack.probe`` must hold the probe of the clean pass with its gradient.
    ``compute_loss()`` runs a forward pass and returns the loss, and
    ``backward(loss)`` accumulates parameter gradients the way the trainer does.
    Returns the last adversarial loss (detached), or None when the embedding gradient was zero.
    """
    import torch

    probe = attack.probe
    if probe is None or probe.grad is None:
        return None
    gradient = probe.grad.detach()
    if method == "fgm":
        offset = _normalised(gradient, epsilon)
        if offset is None:
            return None
        attack.offset = offset
        loss = compute_loss()
        backward(loss)
        attack.offset = None
        return loss.detach()

    # PGD ascends on the embedding perturbation for ``steps`` steps of size ``alpha``
    # inside an L2 ball of radius ``epsilon``. Only the last step adds parameter gradients.
    offset = torch.zeros_like(gradient)
    loss = None
    for step in range(steps):
        increment = _normalised(gradient, alpha)
        if increment is None:
            break
        offset = _project(offset + increment, epsilon)
        attack.offset = offset
        loss = compute_loss()
        if step < steps - 1:
            (gradient,) = torch.autograd.grad(loss, attack.probe, retain_graph=False)
            gradient = gradient.detach()
        else:
            backward(loss)
    attack.offset = None
    return None if loss is None else loss.detach()
