"""Render student markup inert in every HTML page nbgrader makes from a submission.

The formgrader's manual-grading page (``/formgrader/submissions/<id>/``) and the feedback
files (``feedback/<student>/<id>/<id>.html``) are nbconvert ``HTMLExporter`` pages of the
autograded notebook, whose outputs and markdown the student wrote. Without this module a
submission's ``<script>``, ``Javascript(...)`` output, ``<img onerror=...>`` or raw HTML in a
markdown answer runs in the instructor's browser, on the Jupyter server's origin, with the
instructor's cookies.

``nbgrader_config.py`` turns this on for both pages (they read the same ``HTMLExporter``
config):

- ``HTMLExporter.sanitize_html = True``: nbconvert's templates then pipe HTML and markdown
  outputs through the ``clean_html`` filter and leave out ``application/javascript`` and
  widget outputs altogether;
- ``HTMLExporter.filters``: ``clean_html`` becomes :func:`clean_html` (nbconvert's own allows
  no ``<p>``, ``<h1>``, ``<img>`` or ``<th>``, so ordinary markdown would show as tags), and
  ``markdown2html`` becomes :class:`SafeMarkdown2HTML`, because the formgrader and feedback
  templates of nbgrader render markdown cells with ``markdown2html`` and never call
  ``clean_html``.

Markup that is not allowed is escaped, not dropped: the instructor sees the student's
``<script>`` as text. PNG/JPEG figures are outputs of their own (``image/png``), which the
templates write as ``<img src="data:...">`` without passing them through HTML, so they show.
"""

import functools
import re

import bleach
from bleach.css_sanitizer import CSSSanitizer
from jinja2 import pass_context
from traitlets.config import LoggingConfigurable

#: Formatting tags markdown and ordinary HTML outputs (tables, figures) need; none runs code.
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
#: Attributes kept on any allowed tag; ``style`` is filtered by :data:`CSS`.
COMMON_ATTRIBUTES = frozenset({"class", "title", "align", "colspan", "rowspan", "style"})
#: Pictures only as inline PNG/JPEG/GIF: no request leaves the page to fetch them.
IMAGE_SRC = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*$")
#: Links to other sites, mail, or an anchor of the same page; no ``javascript:``, no
#: relative path (that would point into the Jupyter server, e.g. at a file the student wrote).
LINK_HREF = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)
#: CSS properties that only lay out or colour text (no ``url()`` is ever kept).
CSS = CSSSanitizer(allowed_css_properties=frozenset({
    "color", "background-color", "font-weight", "font-style", "text-align", "text-decoration",
    "vertical-align", "white-space", "border", "border-collapse", "padding", "margin",
    "width", "max-width", "height"}))


def allowed_attribute(tag, name, value):
    """Whether ``name="value"`` may stay on ``<tag>`` (bleach's attribute callback).

    Parameters
    ----------
    tag, name, value : str
        The element, the attribute's name and its value.

    Returns
    -------
    bool
        True for :data:`COMMON_ATTRIBUTES`, an ``id`` on a heading (markdown's anchors),
        ``href`` on ``<a>`` matching :data:`LINK_HREF`, ``src`` on ``<img>`` matching
        :data:`IMAGE_SRC` and ``alt``/``width``/``height`` on ``<img>``. Every event handler
        (``on...``), ``srcdoc``, ``formaction`` and the like is refused.
    """
    if name in COMMON_ATTRIBUTES:
        return True
    if name == "id":
        return tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
    if tag == "a":
        return name == "href" and bool(LINK_HREF.match(value))
    if tag == "img":
        return name in {"alt", "width", "height"} or (
            name == "src" and bool(IMAGE_SRC.match(value)))
    return False


#: Fragments up to this many characters are remembered, at most :data:`CACHED_FRAGMENTS` of
#: them (see :func:`clean_html`): a few tens of MB at worst, whatever the submissions print.
CACHED_CHARS = 1 << 16
CACHED_FRAGMENTS = 256


def clean_html(html):
    """The HTML a submission produced, with everything that could run escaped or removed.

    Parameters
    ----------
    html : str or bytes
        An HTML fragment: a ``text/html`` output, or markdown already turned into HTML.

    Returns
    -------
    str
        The fragment with only :data:`TAGS` kept as markup. Any other tag (``script``,
        ``iframe``, ``svg``, ``object``, ``style``, ``form``, ...) is escaped, so it shows as
        text; refused attributes (:func:`allowed_attribute`) and comments are removed.

    Notes
    -----
    The result depends on ``html`` alone, so fragments up to :data:`CACHED_CHARS` characters
    are remembered for the life of the process (the :data:`CACHED_FRAGMENTS` last used): a
    grading worker renders the same highlighted code cells and markdown (the statement, the
    tests; about 80 fragments per lista) for every submission of an assignment, and cleaning
    them was most of the feedback page's cost (1.6 s of 2.6 s for lista02).
    """
    html = html.decode() if isinstance(html, bytes) else str(html)
    if len(html) <= CACHED_CHARS:
        return _clean_remembered(html)
    return _clean(html)


def _clean(html):
    # bleach parses with the protocol check too; data: is only reachable through IMAGE_SRC.
    return bleach.clean(html, tags=TAGS, attributes=allowed_attribute,
                        protocols={"http", "https", "mailto", "data"}, css_sanitizer=CSS,
                        strip=False, strip_comments=True)


_clean_remembered = functools.lru_cache(maxsize=CACHED_FRAGMENTS)(_clean)


class SafeMarkdown2HTML(LoggingConfigurable):
    """The ``markdown2html`` filter of the exporter it belongs to, followed by :func:`clean_html`.

    Registered by name in ``HTMLExporter.filters``; nbconvert builds it with the exporter as
    ``parent``, so markdown is converted exactly as before (attachments, anchors, math) and
    only then cleaned. Math (``$...$``) is plain text to the sanitizer and stays for MathJax.
    """

    def __call__(self, context, source):
        """Convert ``source`` (markdown) to HTML in the template ``context``, then clean it."""
        return clean_html(self.parent.markdown2html(context, source))


# Jinja passes the template context to a filter object that carries this marker
# (jinja2.pass_context sets it on whatever it decorates); HTMLExporter.markdown2html needs it.
pass_context(SafeMarkdown2HTML)
