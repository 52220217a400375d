"""Figures of Lista 2 (inicialização, treinamento e função custo).

Each function takes the numbers a student computed (predicted and measured variances, the
J after each update, per-class recalls) and only draws them; it returns the
``matplotlib.figure.Figure``, which the notebook shows as the value of its cell.
"""

import numpy as np
from matplotlib.figure import Figure


def variancias_por_camada(redes):
    """Predicted (lines) and measured (markers) Var(z) per layer, one panel per network.

    Parameters
    ----------
    redes : dict
        ``{panel title: {curve label: (predicted, measured)}}``; ``predicted`` and
        ``measured`` are sequences with one value per layer (measured may be None).
    """
    fig = Figure(figsize=(5.2 * len(redes), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(redes), squeeze=False)[0])
    for ax, (titulo, curvas) in zip(axes, redes.items()):
        for cor, (rotulo, (prevista, medida)) in enumerate(curvas.items()):
            camadas = np.arange(1, len(prevista) + 1)
            ax.plot(camadas, prevista, "-", color=f"C{cor}", label=f"{rotulo}: prevista")
            if medida is not None:
                ax.plot(camadas, medida, "o", color=f"C{cor}", ms=5, label=f"{rotulo}: medida")
        ax.set_yscale("log")
        ax.set_xticks(camadas)
        ax.set_xlabel("camada l")
        ax.set_ylabel("Var(z) na camada l")
        ax.set_title(titulo)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def custo_por_atualizacao(tracos, atualizacoes_por_epoca):
    """J on the whole training set after every update, one curve per order of the examples.

    Parameters
    ----------
    tracos : dict
        ``{label: J trace}``, each trace with J(w(0)) first and then one value per update.
    atualizacoes_por_epoca : int
        Updates in one epoch (dotted vertical lines at the end of each epoch).
    """
    fig = Figure(figsize=(10, 3.8))
    ax = fig.subplots()
    n = max(len(t) for t in tracos.values())
    for fim in range(atualizacoes_por_epoca, n, atualizacoes_por_epoca):
        ax.axvline(fim, color="0.85", lw=0.8, ls=":")
    for rotulo, traco in tracos.items():
        ax.plot(np.arange(len(traco)), traco, lw=1.0, label=rotulo)
    ax.set_xlabel("atualização t (linhas pontilhadas: fim de cada época)")
    ax.set_ylabel("J(w) no conjunto de treinamento todo")
    ax.set_title("Custo depois de cada atualização dos pesos")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def revocacoes_por_classe(tabela, meta=None):
    """Mean per-class recall over seeds (bars) with the min-max range, one group per setting.

    Parameters
    ----------
    tabela : dict
        ``{setting label: array (seeds, classes)}`` of recalls measured on validation sets.
    meta : float, optional
        Target drawn as a dashed horizontal line.
    """
    fig = Figure(figsize=(max(6.0, 1.6 * len(tabela)), 3.8))
    ax = fig.subplots()
    rotulos = list(tabela)
    valores = [np.asarray(tabela[r], dtype=float) for r in rotulos]
    n_classes = valores[0].shape[1]
    largura = 0.8 / n_classes
    posicoes = np.arange(len(rotulos))
    for c in range(n_classes):
        media = np.array([v[:, c].mean() for v in valores])
        faixa = np.array([[media[i] - v[:, c].min(), v[:, c].max() - media[i]]
                          for i, v in enumerate(valores)]).T
        ax.bar(posicoes + (c - (n_classes - 1) / 2) * largura, media, largura, yerr=faixa,
               capsize=3, label=f"revocação da classe {c}")
    if meta is not None:
        ax.axhline(meta, color="k", ls="--", lw=1, label=f"meta {meta:g}".replace(".", ","))
    ax.set_xticks(posicoes, rotulos, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("revocação na validação (média; barra: mín.–máx.)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
