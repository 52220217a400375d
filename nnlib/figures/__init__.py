"""Figures and widgets of the notebooks, one module per notebook (``nnlib.figures.aula03``).

The numerical modules of nnlib (optimizers, schedules, layers, ...) are what students read
beside the slides; this package holds only drawing code, so that a notebook cell shows the
idea and draws it with one call. Conventions every module here follows:

- a figure is a function that returns the ``matplotlib.figure.Figure`` it drew;
- a widget is a function named ``interativo_<what>(...)`` whose arguments say what the
  student can move (``interativo_trajetorias(alpha=(0.005, 0.12), mu=(0, 0.99))``); it
  returns the displayed widget box and exposes its callback, a plain function that tests
  call with chosen values (``box.atualizar(alpha=0.05)``);
- widgets redraw with :class:`nnlib.liveplot.LiveFigure` (static part drawn once), so a
  slider move stays within the latency targets of docs/performance.md;
- every label a student sees is Brazilian Portuguese, in the slides' vocabulary.
"""
