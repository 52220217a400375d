"""course/browser/safe_html.clean_html: the same cleaning whether a fragment is remembered
(short fragments, cached for the life of the process) or not (long ones)."""

from course.browser import safe_html

HOSTILE = ['<script>alert(1)</script><p>texto</p>', '<img src=x onerror="alert(1)">',
           '<a href="javascript:alert(1)">x</a>', '<div style="background:url(http://x)">y</div>']


def test_remembered_fragments_are_cleaned_as_the_first_time():
    for fragment in HOSTILE:
        first = safe_html.clean_html(fragment)
        assert first == safe_html._clean(fragment)
        assert safe_html.clean_html(fragment) == first  # from the cache
        assert safe_html.clean_html(fragment.encode()) == first  # bytes: the same key
        assert "<script" not in first and "onerror" not in first and "javascript:" not in first
        assert "url(" not in first


def test_long_fragments_are_cleaned_without_the_cache():
    long = "<p>" + "a" * safe_html.CACHED_CHARS + "</p><script>alert(1)</script>"
    before = safe_html._clean_remembered.cache_info().currsize
    cleaned = safe_html.clean_html(long)
    assert "&lt;script&gt;" in cleaned and "<script" not in cleaned
    assert safe_html._clean_remembered.cache_info().currsize == before
