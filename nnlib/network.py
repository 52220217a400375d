"""The multilayer perceptron (MLP): dense layers stacked, with one flat weight vector.

All weights and biases of the network live in ONE vector ``w`` (the slides' w) and their
gradients in one vector ``g`` of the same length. Each layer's W and b are views into ``w``;
``params`` lists them in the order [W1, b1, W2, b2, ...]. An optimizer may therefore update
``[net.w]`` with one vector operation (what :func:`nnlib.training.train` does) or the
per-layer arrays ``net.params``; both change the same numbers.
"""

import numpy as np

from nnlib import init as initializers
from nnlib import losses
from nnlib._argument_validation import check_finite_array, check_int, check_rng
from nnlib.layers import Dense

# Examples per forward pass when only the output is wanted (J on a whole set, predict): the
# hidden layers of 20000 examples are 80 MB arrays whose fresh pages cost more than the
# products; blocks of 1024 keep them small (docs/performance.md).
OUTPUT_BLOCK = 1024


def forward_in_blocks(forward, X, block=OUTPUT_BLOCK):
    """``forward(X)`` computed ``block`` examples at a time and stacked (any model's forward)."""
    if len(X) <= block:
        return forward(X)
    return np.concatenate([forward(X[i:i + block]) for i in range(0, len(X), block)])


class MLP:
    """A multilayer perceptron built from its layer sizes.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, inputs first: ``[64, 64, 10]`` is 64 inputs, one hidden layer of
        64 units and 10 outputs.
    activation : str
        φ of the hidden layers (a name from :mod:`nnlib.activations`).
    output : str
        φ of the output layer. ``"linear"`` (logits) for the cross-entropy losses, which
        apply softmax or the logistic function themselves.
    init : str or callable
        Weight initializer, ``init(fan_in, fan_out, rng) -> (fan_in, fan_out)`` array or a
        name from :mod:`nnlib.init`. Biases start at zero, as the slides recommend.
    rng : numpy.random.Generator
        Source of the initial weights.
    dtype : numpy dtype
        float64 by default.
    """

    def __init__(self, sizes, activation="tanh", output="linear", init="glorot_uniform", rng=None,
                 dtype=np.float64):
        sizes = [check_int("layer size", n, low=1) for n in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs the inputs and at least one layer, got {sizes}")
        if output == "softmax":
            raise ValueError(
                "output='softmax' is not supported: use output='linear' with "
                "loss='softmax_cross_entropy', which applies softmax to the logits"
            )
        rng = check_rng(rng if rng is not None else np.random.default_rng(0))
        init_fn = initializers.get(init) if isinstance(init, str) else init
        self.sizes = sizes
        shapes = [(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        n_weights = sum(n_in * n_out + n_out for n_in, n_out in shapes)
        self.w = np.zeros(n_weights, dtype=dtype)
        self.g = np.zeros(n_weights, dtype=dtype)
        self.params, self.grads = _views(self.w, shapes), _views(self.g, shapes)
        self.layers = []
        for i, (n_in, n_out) in enumerate(shapes):
            W, b = self.params[2 * i], self.params[2 * i + 1]
            W[...] = init_fn(n_in, n_out, rng)  # biases stay at zero
            act = output if i == len(shapes) - 1 else activation
            self.layers.append(Dense(W, b, self.grads[2 * i], self.grads[2 * i + 1], act))

    @property
    def dtype(self):
        return self.w.dtype

    def forward(self, X):
        """The network's output for a batch X of shape (N, sizes[0])."""
        a = X
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def backward(self, delta_out):
        """Backpropagate ∂J/∂output through every layer, filling ``g``; returns ``g``."""
        delta = delta_out
        for i in reversed(range(len(self.layers))):
            delta = self.layers[i].backward(delta, input_grad=i > 0)
        return self.g

    def output(self, X):
        """The network's output for X, computed OUTPUT_BLOCK examples at a time.

        The same numbers as ``forward(X)`` (up to rounding in the last bits), with small
        intermediate arrays; nothing is kept for ``backward``.
        """
        return forward_in_blocks(self.forward, X)

    def loss(self, X, Y, loss):
        """J(w) on (X, Y): forward pass only."""
        return losses.get(loss).value(self.output(X), Y)

    def loss_and_gradient(self, X, Y, loss, w=None):
        """J and its gradient g = ∂J/∂w on the batch (X, Y).

        With ``w`` given (an array of the shape of ``net.w``), both are evaluated at those
        weights and the network's own weights are left unchanged: this is how Nesterov's
        look-ahead point w + μv is evaluated. The gradient is returned in ``net.g``, which
        the next call overwrites.
        """
        loss = losses.get(loss)
        if w is None or w is self.w:
            return self._loss_and_gradient(X, Y, loss), self.g
        if np.shape(w) != self.w.shape:
            raise ValueError(f"w must have shape {self.w.shape}, got {np.shape(w)}")
        saved = self.w.copy()
        self.w[...] = w
        try:
            return self._loss_and_gradient(X, Y, loss), self.g
        finally:
            self.w[...] = saved

    def _loss_and_gradient(self, X, Y, loss):
        J, delta_out = loss.value_and_grad(self.forward(X), Y)
        self.backward(delta_out)
        return J

    def predict(self, X):
        """The network's output for X (for the cross-entropy losses: the logits)."""
        return self.output(check_finite_array("X", X, ndim=2).astype(self.dtype, copy=False))

    def predict_classes(self, X):
        """Class labels: argmax of the outputs, or output > 0 for a single logit."""
        return classes(self.predict(X))

    def copy(self):
        """An independent network with the same architecture and weights."""
        twin = object.__new__(MLP)
        twin.sizes = list(self.sizes)
        twin.w, twin.g = self.w.copy(), np.zeros_like(self.g)
        shapes = [layer.W.shape for layer in self.layers]
        twin.params, twin.grads = _views(twin.w, shapes), _views(twin.g, shapes)
        twin.layers = [
            Dense(twin.params[2 * i], twin.params[2 * i + 1], twin.grads[2 * i], twin.grads[2 * i + 1],
                  layer.activation)
            for i, layer in enumerate(self.layers)
        ]
        return twin

    def __repr__(self):
        return f"MLP({self.sizes}, {len(self.w)} weights: " + ", ".join(map(repr, self.layers)) + ")"


def classes(out):
    """Class labels from network outputs: argmax, or output > 0 for a single logit."""
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return np.argmax(out, axis=1)


def _views(flat, shapes):
    """[W1, b1, W2, b2, ...] as views into the flat vector, in that order."""
    views, start = [], 0
    for n_in, n_out in shapes:
        views.append(flat[start:start + n_in * n_out].reshape(n_in, n_out))
        start += n_in * n_out
        views.append(flat[start:start + n_out])
        start += n_out
    return views
