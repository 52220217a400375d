"""The dense (fully connected) layer.

Forward: z = X W + b, a = φ(z), with W of shape (fan_in, fan_out) so that one example is a
row of X (Keras' layout; PyTorch's ``nn.Linear`` stores W transposed, as (out, in)).

Backward, for a mini-batch whose output gradient is δa = ∂J/∂a:
    δz = δa ⊙ φ'(z)
    ∂J/∂W = Xᵀ δz,  ∂J/∂b = Σ_n δz(n),  ∂J/∂X = δz Wᵀ

The layer does not own its arrays: W, b, dW and db are views into the network's flat
vectors w and g (see :class:`nnlib.network.MLP`), so an optimizer can update every weight
with one vector operation.
"""

import numpy as np

from nnlib import activations


class Dense:
    """A dense layer a = φ(X W + b).

    Parameters
    ----------
    W, b : ndarray
        Weights (fan_in, fan_out) and bias (fan_out,), updated in place by optimizers.
    dW, db : ndarray
        Arrays of the same shapes where :meth:`backward` writes the gradients.
    activation : str or Activation
        φ, a name from :mod:`nnlib.activations`.
    """

    def __init__(self, W, b, dW, db, activation="tanh"):
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.activation = activations.get(activation)
        self.X = self.z = self.a = None  # kept by forward for backward

    @property
    def fan_in(self):
        return self.W.shape[0]

    @property
    def fan_out(self):
        return self.W.shape[1]

    def forward(self, X):
        """a = φ(X W + b); keeps X, z and a for :meth:`backward`."""
        self.X = X
        self.z = X @ self.W + self.b
        self.a = self.activation.f(self.z)
        return self.a

    def backward(self, delta_a, input_grad=True):
        """Write ∂J/∂W and ∂J/∂b into dW and db; return ∂J/∂X for the layer below.

        The first layer has no layer below: ``input_grad=False`` skips that product.
        """
        if self.activation.name == "linear":
            delta_z = delta_a
        else:
            delta_z = delta_a * self.activation.df(self.z, self.a)
        np.matmul(self.X.T, delta_z, out=self.dW)
        delta_z.sum(axis=0, out=self.db)
        return delta_z @ self.W.T if input_grad else None

    def __repr__(self):
        return f"Dense({self.fan_in} -> {self.fan_out}, {self.activation.name})"
