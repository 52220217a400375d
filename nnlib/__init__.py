"""nnlib: a small, readable numpy library for training neural networks (T320).

One idea per module, each read beside the slides:

- ``activations``: activation functions and their derivatives
- ``losses``: cost functions J and their gradients
- ``init``: weight initializers (Xavier/Glorot, He, LeCun) and zero bias
- ``layers`` and ``network``: the dense layer and the MLP
- ``optim``: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam
- ``schedules``: learning-rate schedules (the slides' linear decay first)
- ``training``: one loop for online, mini-batch and batch training
- ``data``, ``surfaces``, ``gradcheck``: data sets, 2-D test functions, finite differences
- ``liveplot``: widget figures redrawn in place (static part once, moving lines each time)
"""

__version__ = "0.1.0"

