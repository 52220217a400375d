"""The reference a library is measured against: a minimal numpy training loop.

Written the way one would write it by hand for one MLP: a list of (W, b) arrays, the
forward and backward passes inline, one update per parameter array. ``record_J`` adds what
the slides' algorithm boxes also do and nnlib always does: the mini-batch J of each
iteration and J(w(k)) on the whole training set before training (k = 0) and after each epoch.
"""

import numpy as np

ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: (a > 0).astype(a.dtype)),
}


def init_params(sizes, rng):
    """Glorot-uniform weights, zero biases (the same rule nnlib uses by default)."""
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        r = np.sqrt(6.0 / (m + n))
        params += [rng.uniform(-r, r, size=(m, n)), np.zeros(n)]
    return params


def forward(params, X, act):
    f = ACTIVATIONS[act][0]
    activations = [X]
    for i in range(0, len(params) - 2, 2):
        activations.append(f(activations[-1] @ params[i] + params[i + 1]))
    return activations, activations[-1] @ params[-2] + params[-1]


def cross_entropy(logits, labels):
    """J and ∂J/∂logits of softmax cross-entropy, mean over the batch."""
    n = len(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1)
    J = float((np.log(total) - shifted[np.arange(n), labels]).sum()) / n
    grad = e / total[:, None]
    grad[np.arange(n), labels] -= 1.0
    return J, grad / n


def gradients(params, X, labels, act):
    df = ACTIVATIONS[act][1]
    activations, logits = forward(params, X, act)
    J, delta = cross_entropy(logits, labels)
    grads = [None] * len(params)
    for i in range(len(params) - 2, -1, -2):
        a = activations[i // 2]
        grads[i], grads[i + 1] = a.T @ delta, delta.sum(axis=0)
        if i > 0:
            delta = (delta @ params[i].T) * df(a)
    return J, grads


def train(params, X, labels, act, optimizer, epochs, batch_size, rng, alpha, record_J=True):
    """Train in place; ``optimizer`` is "momentum" (μ = 0.9) or "adam" (default β, ε)."""
    state = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params]
    N, t, history = len(X), 0, []
    if record_J:  # the slides' boxes compute J(w(0)) before the first epoch
        history.append(cross_entropy(forward(params, X, act)[1], labels)[0])
    for _ in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            idx = order[start:start + batch_size]
            J, grads = gradients(params, X[idx], labels[idx], act)
            t += 1
            for p, g, v, s in zip(params, grads, state, state2):
                if optimizer == "momentum":
                    v *= 0.9
                    v -= alpha * g
                    p += v
                else:
                    v *= 0.9
                    v += 0.1 * g
                    s *= 0.999
                    s += 0.001 * g * g
                    p -= (alpha / (1 - 0.9**t)) * v / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
            if record_J:
                history.append(J)
        if record_J:
            history.append(cross_entropy(forward(params, X, act)[1], labels)[0])
    return history


def accuracy(params, X, labels, act):
    return float(np.mean(np.argmax(forward(params, X, act)[1], axis=1) == labels))


def blas_floor(sizes, X, epochs, batch_size):
    """Only the matrix products of the same epochs: X W forward, Xᵀδ and δWᵀ backward."""
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    N = len(X)
    for _ in range(epochs):
        for start in range(0, N, batch_size):
            a = X[start:start + batch_size]
            acts = [a]
            for W in Ws:
                acts.append(acts[-1] @ W)
            delta = acts[-1]
            for i in range(len(Ws) - 1, -1, -1):
                _ = acts[i].T @ delta
                if i > 0:
                    delta = delta @ Ws[i].T
