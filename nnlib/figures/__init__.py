"""Figures and widgets of the notebooks, one module per notebook (``nnlib.figures.aula03``).

The numerical modules of nnlib (optimizers, schedules, layers, ...) are what students read
beside the slides; this package holds only drawing code, so that a notebook cell shows the
idea and draws it with one call. Conventions every module here follows:

- a figure is a function that returns the ``matplotlib.figure.Figure`` it drew; the figures
  that draw one curve per label in a row of panels are built by ``_common.curves_figure``;
- a widget is a function named ``interativo_<what>(...)`` whose arguments say what the
  student can move (``interativo_trajetorias(alpha=(0.005, 0.12), mu=(0, 0.99))``); it
  returns the box ``_common.panel`` builds, which the notebook displays (the function never
  does). The box exposes its callback, a plain function that tests call with chosen values
  (``box.atualizar(alpha=0.05)``), the same picture drawn from scratch (``box.figura``), the
  controls (``box.controles``) and the LiveFigure (``box.live``);
- widgets redraw with :class:`nnlib.liveplot.LiveFigure` (static part drawn once), so a
  slider move stays within the latency targets of docs/performance.md;
- every label a student sees is Brazilian Portuguese, in the slides' vocabulary; code
  identifiers are English (the names the notebooks and their tests call, ``interativo_*``,
  ``box.atualizar``, and aula01-03's and lista02's figure functions, are still Portuguese).
"""
