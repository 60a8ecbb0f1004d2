"""The tutorials' model losses: GAN discriminator / generator losses, and Gatys's
style-transfer losses (Gram matrix, content, style) with total variation.

Their inputs are not a (y_true, y_pred) pair, so they share a small base,
:class:`MultiInputLoss` (``_multi_input``): targets first, what is being
trained last, and ``backward`` returns one gradient per trained input.
The arithmetic sits in compiled kernels: the binary cross-entropy kernel for
the GAN losses, the half-squared-error kernel for the content loss, and the
Gram and total-variation kernels of ``losses/models.hpp``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np

from . import _arrays, _core, _dask, _passes
from ._arrays import REDUCTION_NONE
from ._declared import BinaryCrossentropy, HalfSquaredError
from ._multi_input import _MULTI_METHODS, Grads, MultiInputLoss, _PerImage  # noqa: F401 - re-exported


def _features(x: Any, what: str, dtype: Optional[np.dtype] = None) -> np.ndarray:
    a = _arrays.as_float(x, what, dtype)
    if a.ndim not in (2, 3, 4):
        raise ValueError(
            f"{what} must be channels-last features: (positions, C), (H, W, C) or "
            f"(B, H, W, C); got shape {a.shape}")
    return a


def _batched(a: np.ndarray) -> np.ndarray:
    """(B, M, C) C-contiguous view or copy of (M, C), (H, W, C) or (B, H, W, C)."""
    b = a.shape[0] if a.ndim == 4 else 1
    m = math.prod(a.shape[1:-1] if a.ndim == 4 else a.shape[:-1])
    # explicit sizes, not -1: an empty batch or zero channels must reshape too
    return np.ascontiguousarray(a).reshape(b, m, a.shape[-1])


def _batch_shape(a: np.ndarray) -> tuple[int, ...]:
    return (a.shape[0],) if a.ndim == 4 else ()


# ---------------------------------------------------------------------------
# Gram matrix


def gram_matrix(features: Any) -> np.ndarray:
    """The Gram matrix of channels-last features, Fᵀ F summed over positions
    (unnormalised, as in Gatys et al. 2015).

    ``features``: (positions, C), (H, W, C) or batched (B, H, W, C); returns
    (C, C), or (B, C, C) for a batch. Computed by a cache-blocked, threaded C++
    kernel (float32 partial sums over 256 positions, float64 across them); the
    result is exactly symmetric. Its backward is :func:`gram_matrix_backward`
    (also ``gram_matrix.backward``)."""
    f = _features(features, "features")
    fb = _batched(f)
    g = np.empty((fb.shape[0], fb.shape[2], fb.shape[2]), fb.dtype)
    _core.gram(fb, g)
    return g if f.ndim == 4 else g[0]


def gram_matrix_backward(features: Any, grad_output: Any) -> np.ndarray:
    """d/dF of sum(grad_output * gram_matrix(F)) = F (dG + dGᵀ), shaped like F.

    ``grad_output`` has the Gram matrix's shape ((C, C) or (B, C, C); a (C, C)
    array is used for every image of a batch)."""
    f = _features(features, "features")
    fb = _batched(f)
    c = fb.shape[2]
    dg = _arrays.as_float(grad_output, "grad_output", fb.dtype)
    want = (fb.shape[0], c, c) if f.ndim == 4 else (c, c)
    try:
        dg = np.broadcast_to(dg, (fb.shape[0], c, c) if f.ndim == 4 else (1, c, c))
    except ValueError:
        raise ValueError(f"grad_output of shape {dg.shape} does not match the Gram matrix "
                         f"shape {want}") from None
    sym = np.ascontiguousarray(dg + np.swapaxes(dg, 1, 2))
    out = np.empty(fb.shape, fb.dtype)
    _core.gram_backward(fb, sym, out)
    return out.reshape(f.shape)


setattr(gram_matrix, "backward", gram_matrix_backward)  # noqa: B010 - an attribute of a function


# ---------------------------------------------------------------------------
# GAN losses

_PAIR = "1 - sigmoid(x)"


class GANDiscriminatorLoss(MultiInputLoss):
    """The GAN discriminator's loss (Goodfellow et al. 2014; DCGAN's
    ``discriminator_loss``)::

        loss(real_output, fake_output) = BCE(1, real_output) + BCE(0, fake_output)

    each term Keras's ``BinaryCrossentropy`` (mean over the last axis, then
    the reduction), so ``from_logits=True`` gives softplus(-r) and softplus(f)
    per element. ``backward`` returns ``(grad_real, grad_fake)``.

    Parameters
    ----------
    from_logits : bool, default True
        Whether the discriminator outputs are logits; probabilities are clipped
        to [1e-7, 1 - 1e-7] as Keras clips them.
    reduction, name
        As every loss (Keras's reductions).

    Notes
    -----
    ``sample_weight`` is applied to both terms, so it must suit both batches.
    ``gradient_hessian`` gives the per-element gradients and Hessian diagonals
    of the two cross-entropies (unreduced)."""

    _inputs = ("real_output", "fake_output")
    _n_targets = 0
    _n_trained = 2
    _default_name = "gan_discriminator_loss"
    has_hessian = True

    def __init__(self, from_logits: bool = True, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        self._bce = BinaryCrossentropy(from_logits=self.from_logits, reduction=reduction)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        real, fake = (_arrays.as_float(a, n) for a, n in zip(args, self._inputs))
        one, zero = real.dtype.type(1), fake.dtype.type(0)
        v_real, g_real = self._bce._run(one, real, sample_weight, want_value=want_value,
                                        want_grad=want_grad, grad_output=grad_output)
        v_fake, g_fake = self._bce._run(zero, fake, sample_weight, want_value=want_value,
                                        want_grad=want_grad, grad_output=grad_output)
        value = v_real + v_fake if want_value else None
        return value, (g_real, g_fake)

    def _dask_terms(self, args: tuple[Any, ...]) -> list[_dask.Term]:
        real, fake = args
        return [_dask.Term(self._bce, 1.0, real, 0, 1.0, 1.0),
                _dask.Term(self._bce, 0.0, fake, 1, 1.0, 1.0)]

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        real, fake = (_arrays.as_float(a, n) for a, n in zip(args, self._inputs))
        g_r, h_r = self._bce.gradient_hessian(real.dtype.type(1), real, sample_weight)
        g_f, h_f = self._bce.gradient_hessian(fake.dtype.type(0), fake, sample_weight)
        return (g_r, g_f), (h_r, h_f)


class GANGeneratorLoss(MultiInputLoss):
    """The GAN generator's loss on the discriminator's outputs for fakes::

        saturating=False (default):  BCE(1, fake_output) = -log D(G(z))
        saturating=True:            -BCE(0, fake_output) = log(1 - D(G(z)))

    The non-saturating form (Goodfellow et al. 2014, section 3; DCGAN's
    ``generator_loss``) is the default; ``saturating=True`` is the original
    minimax objective, whose gradient vanishes when the discriminator wins.
    Each is Keras's ``BinaryCrossentropy`` (mean over the last axis, then the
    reduction). ``backward`` returns ``(grad_fake,)``.

    Parameters
    ----------
    from_logits : bool, default True
        Logits, or probabilities clipped to [1e-7, 1 - 1e-7] as Keras clips them.
    saturating : bool, default False
        Minimise log(1 - D(G(z))) instead of -log D(G(z)).
    reduction, name
        As every loss (Keras's reductions)."""

    _inputs = ("fake_output",)
    _n_targets = 0
    _n_trained = 1
    _default_name = "gan_generator_loss"
    has_hessian = True

    def __init__(self, from_logits: bool = True, saturating: bool = False,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        self.saturating = bool(saturating)
        self._bce = BinaryCrossentropy(from_logits=self.from_logits, reduction=reduction)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        fake = _arrays.as_float(args[0], "fake_output")
        if not self.saturating:
            v, g = self._bce._run(fake.dtype.type(1), fake, sample_weight, want_value=want_value,
                                  want_grad=want_grad, grad_output=grad_output)
            return v, (g,)
        go = -_arrays.as_float(grad_output, "grad_output", fake.dtype)
        v, g = self._bce._run(fake.dtype.type(0), fake, sample_weight, want_value=want_value,
                              want_grad=want_grad, grad_output=go)
        return (-v if want_value else None), (g,)

    def _dask_terms(self, args: tuple[Any, ...]) -> list[_dask.Term]:
        sign = -1.0 if self.saturating else 1.0
        return [_dask.Term(self._bce, 0.0 if self.saturating else 1.0, args[0], 0, sign, sign)]

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        fake = _arrays.as_float(args[0], "fake_output")
        target = fake.dtype.type(0 if self.saturating else 1)
        g, h = self._bce.gradient_hessian(target, fake, sample_weight)
        if self.saturating:
            g, h = -g, -h
        return (g,), (h,)


# ---------------------------------------------------------------------------
# Style transfer

class ContentLoss(MultiInputLoss):
    """Gatys et al.'s content loss: half the summed squared difference between
    the generated image's features F and the content image's features P::

        loss = 1/2 sum (F - P)**2      (per image)
        dloss/dF = F - P,  d2loss/dF2 = 1

    Features are channels-last, (H, W, C) for one image or (B, H, W, C) for a
    batch (one loss per image, then the reduction over the batch; any other
    rank is one sample). ``content_features`` broadcasts to the generated
    features. ``backward`` returns ``(grad_generated,)``.

    Parameters
    ----------
    reduction, name
        Keras's reductions of the per-image losses (default: mean over images)."""

    _inputs = ("content_features", "generated_features")
    _n_targets = 1
    _n_trained = 1
    _default_name = "content_loss"
    has_hessian = True

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self._half = HalfSquaredError(reduction=reduction)

    def _pair(self, args: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, int]:
        gen = _arrays.as_float(args[1], "generated_features")
        content = _arrays.as_float(args[0], "content_features", gen.dtype)
        try:
            content = np.broadcast_to(content, gen.shape)
        except ValueError:
            raise ValueError(f"content_features shape {content.shape} and generated_features "
                             f"shape {gen.shape} are incompatible") from None
        n = math.prod(gen.shape[1:]) if gen.ndim == 4 else gen.size
        flat = (gen.shape[0], n) if gen.ndim == 4 else (n,)  # not -1: empty batches too
        return content.reshape(flat), gen.reshape(flat), n

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        content, gen, n = self._pair(args)
        # The kernel's per-sample loss is the mean over the flattened image;
        # n times it is the sum. grad_output carries the same factor.
        go = _arrays.as_float(grad_output, "grad_output", gen.dtype) * gen.dtype.type(max(n, 1))
        v, g = self._half._run(content, gen, sample_weight, want_value=want_value,
                               want_grad=want_grad, grad_output=go)
        if want_value:  # an image without elements sums to 0 (its mean is NaN)
            v = v * gen.dtype.type(n) if n else np.zeros_like(v)[()]
        return v, ((g.reshape(np.shape(args[1])) if g is not None else None),)

    def _dask_terms(self, args: tuple[Any, ...]) -> list[_dask.Term]:
        # as _pair and _evaluate: the mean over each flattened image, n times
        content, gen = args
        shape = tuple(gen.shape)
        try:
            content = np.broadcast_to(content, shape)
        except ValueError:
            raise ValueError(f"content_features shape {tuple(np.shape(content))} and "
                             f"generated_features shape {shape} are incompatible") from None
        n = math.prod(shape[1:]) if len(shape) == 4 else math.prod(shape)
        flat = (shape[0], n) if len(shape) == 4 else (n,)
        return [_dask.Term(self._half, content.reshape(flat), gen.reshape(flat), 0, float(n),
                           1.0, like=gen)]

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        content, gen, _ = self._pair(args)
        g, h = self._half.gradient_hessian(content, gen, sample_weight)
        shape = np.shape(args[1])
        return (g.reshape(shape),), (h.reshape(shape),)


Layers = Union[np.ndarray, list[np.ndarray]]


def _layers(x: Any, what: str) -> tuple[list[Any], bool]:
    """A list or tuple of arrays is a list of layers; anything else is one layer
    (so a nested Python list of numbers is one array)."""
    if isinstance(x, (list, tuple)) and len(x) > 0 and \
            all(isinstance(a, np.ndarray) for a in x):
        return list(x), True
    return [x], False


class StyleLoss(MultiInputLoss):
    """Gatys et al.'s style loss: per layer l with C channels over M = H * W
    positions, the squared distance between the Gram matrices of the generated
    features (G) and of the style features (A)::

        E_l = sum (G - A)**2 / (4 C**2 M**2),    loss = sum_l w_l E_l
        dE_l/dF = F (G - A) / (C**2 M**2)

    Inputs are one layer's features or a list of layers (the same list
    structure for both), each channels-last (H, W, C) or batched (B, H, W, C);
    style features of one image serve every image of a generated batch.
    ``backward`` returns ``(grad_generated,)`` where grad_generated is an array
    or, for a list of layers, a list. ``gradient_hessian`` gives the exact
    Hessian diagonal, (|F_m|² + F_mk² + (G - A)_kk) w_l / (C² M²).

    Parameters
    ----------
    layer_weights : sequence of float, optional
        w_l; default equal weights 1 / (number of layers), as in the paper.
    reduction, name
        Keras's reductions of the per-image losses."""

    _inputs = ("style_features", "generated_features")
    _n_targets = 1
    _n_trained = 1
    _default_name = "style_loss"
    has_hessian = True

    def __init__(self, layer_weights: Optional[Sequence[float]] = None,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if layer_weights is not None:
            if np.ndim(layer_weights) != 1:
                raise ValueError("layer_weights must be a sequence of numbers")
            layer_weights = [_arrays.real_param(w, "layer_weights") for w in layer_weights]
            if not all(math.isfinite(w) for w in layer_weights):
                raise ValueError(f"layer_weights must be finite, got {layer_weights}")
        self.layer_weights = layer_weights

    def _prepare(self, args: tuple[Any, ...]) -> tuple[list[tuple[np.ndarray, np.ndarray, tuple[int, ...]]], list[float], bool, tuple[int, ...], np.dtype]:  # noqa: E501
        styles, s_list = _layers(args[0], "style_features")
        gens, g_list = _layers(args[1], "generated_features")
        if s_list != g_list or len(styles) != len(gens):
            raise ValueError(
                f"style_features and generated_features must both be one array or lists of the "
                f"same length (got {len(styles) if s_list else 'an array'} and "
                f"{len(gens) if g_list else 'an array'})")
        weights = (self.layer_weights if self.layer_weights is not None
                   else [1.0 / len(gens)] * len(gens))
        if len(weights) != len(gens):
            raise ValueError(f"layer_weights has {len(weights)} entries for {len(gens)} layers")
        layers = []
        batch: Optional[tuple[int, ...]] = None
        dtype: Optional[np.dtype] = None
        for k, (s, g) in enumerate(zip(styles, gens)):
            gf = _features(g, f"generated_features[{k}]" if g_list else "generated_features")
            dtype = gf.dtype if dtype is None else dtype
            gf = gf.astype(dtype, copy=False)
            sf = _features(s, f"style_features[{k}]" if s_list else "style_features", dtype)
            if sf.shape[-1] != gf.shape[-1]:
                raise ValueError(f"layer {k}: style features have {sf.shape[-1]} channels, "
                                 f"generated features {gf.shape[-1]}")
            b = _batch_shape(gf)
            if batch is None:
                batch = b
            elif b != batch:
                raise ValueError(f"layer {k}: batch shape {b} differs from layer 0's {batch}")
            if sf.ndim == 4 and sf.shape[0] not in (1, *b):
                raise ValueError(f"layer {k}: {sf.shape[0]} style images for a batch of {b}")
            layers.append((sf, gf, gf.shape))
        assert batch is not None and dtype is not None
        return layers, weights, g_list, batch, dtype

    @staticmethod
    def _layer(sf: np.ndarray, gf: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(generated features as (B, M, C), G - A as (B, C, C), 1 / (C² M²))."""
        fb = _batched(gf)
        g = np.empty((fb.shape[0], fb.shape[2], fb.shape[2]), fb.dtype)
        _core.gram(fb, g)
        sb = _batched(sf)
        a = np.empty((sb.shape[0], sb.shape[2], sb.shape[2]), sb.dtype)
        _core.gram(sb, a)
        c, m = fb.shape[2], fb.shape[1]
        scale = 1.0 / (float(c) * c * float(m) * m) if c and m else 0.0
        return fb, g - a, scale

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        layers, weights, as_list, batch, dtype = self._prepare(args)
        red = _PerImage(sample_weight, batch, dtype, self.reduction)
        per_image = np.zeros(red.n)
        coef = red.coefficients(grad_output) if want_grad else None
        grads = []
        for (sf, gf, shape), wl in zip(layers, weights):
            fb, d, scale = self._layer(sf, gf)
            if want_value:
                e = np.einsum("bij,bij->b", d, d, dtype=np.float64) * (scale / 4.0)
                per_image += wl * e
            if want_grad:
                assert coef is not None
                k = (coef * (wl * scale / 2.0)).astype(dtype)[:, None, None]
                sym = np.ascontiguousarray(k * (d + np.swapaxes(d, 1, 2)))
                out = np.empty(fb.shape, dtype)
                _core.gram_backward(fb, sym, out)
                grads.append(out.reshape(shape))
        value = red.value(per_image) if want_value else None
        grad: Any = (grads if as_list else grads[0]) if want_grad else None
        return value, (grad,)

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        layers, weights, as_list, batch, dtype = self._prepare(args)
        w = _passes.keras_weighting(sample_weight, batch, dtype, REDUCTION_NONE)
        sw = w.per_sample_weights(math.prod(batch))[:, None, None]
        grads, hessians = [], []
        for (sf, gf, shape), wl in zip(layers, weights):
            fb, d, scale = self._layer(sf, gf)
            sym = np.ascontiguousarray(((sw * wl * scale / 2.0).astype(dtype))
                                       * (d + np.swapaxes(d, 1, 2)))
            out = np.empty(fb.shape, dtype)
            _core.gram_backward(fb, sym, out)
            f64 = fb.astype(np.float64)
            diag = np.diagonal(d, axis1=1, axis2=2).astype(np.float64)[:, None, :]
            h = (np.sum(f64 * f64, axis=2, keepdims=True) + f64 * f64 + diag) * (sw * wl * scale)
            grads.append(out.reshape(shape))
            hessians.append(h.astype(dtype).reshape(shape))
        if as_list:
            return (grads,), (hessians,)
        return (grads[0],), (hessians[0],)


class TotalVariation(MultiInputLoss):
    """Anisotropic total variation of images, as ``tf.image.total_variation``::

        loss = sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]|   (per image)
        dloss/dx = the signs of the differences (0 where two neighbours are equal)

    ``images`` are channels-last (H, W, C) or batched (B, H, W, C); with
    reduction "none" the per-image values are exactly tf.image.total_variation's
    (summed in float64). ``backward`` returns ``(grad_images,)``.

    Parameters
    ----------
    reduction, name
        Keras's reductions of the per-image values (default: mean over images;
        "sum" gives the usual ``tf.reduce_sum(tf.image.total_variation(x))``)."""

    _inputs = ("images",)
    _n_targets = 0
    _n_trained = 1
    _default_name = "total_variation"
    _no_hessian_reason = ("total variation is piecewise linear in the pixels: its second "
                          "derivative is zero wherever it exists and undefined at the kinks.")

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        x = _arrays.as_float(args[0], "images")
        if x.ndim not in (3, 4):
            raise ValueError(f"images must be (H, W, C) or (B, H, W, C), got shape {x.shape}")
        x4 = np.ascontiguousarray(x).reshape((math.prod(x.shape[:-3]), *x.shape[-3:]))
        batch = _batch_shape(x)
        red = _PerImage(sample_weight, batch, x.dtype, self.reduction)
        per_image = np.empty(x4.shape[0]) if want_value else None
        grad = np.empty(x4.shape, x.dtype) if want_grad else None
        scale = (np.ascontiguousarray(red.coefficients(grad_output).astype(x.dtype))
                 if want_grad else None)
        if scale is not None and scale.shape[0] != x4.shape[0]:
            scale = np.broadcast_to(scale, (x4.shape[0],)).copy()
        _core.total_variation(x4, per_image, grad, scale)
        value = red.value(per_image) if per_image is not None else None
        return value, ((grad.reshape(x.shape) if grad is not None else None),)


MODEL_LOSSES: tuple[type[MultiInputLoss], ...] = (
    GANDiscriminatorLoss, GANGeneratorLoss, ContentLoss, StyleLoss, TotalVariation)
