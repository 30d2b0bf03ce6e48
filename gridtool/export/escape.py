"""Escaping for every context in which text reaches an HTML page.

Text that a user typed (a finding's note, a layer or field name, a map title) must
never become markup or code in an exported map. Each function here escapes for one
context; pick the one for the place the text lands in:

========================  ==============================================
context                   function
========================  ==============================================
element text              :func:`html_text`
attribute value ("…")     :func:`html_attr`
JS string literal         :func:`js_string` (a complete quoted literal)
JSON inside <script>      :func:`script_json`
JS template literal       :func:`template_literal_text`
========================  ==============================================

The exported page itself never builds HTML from data: its script puts data into
the DOM with ``textContent``. These helpers guard the few places where the server
side writes text into the page (title, legend headings, layer-control names).
"""
from __future__ import annotations

import html
import json
import math
from typing import Any

__all__ = ["html_text", "html_attr", "js_string", "script_json", "template_literal_text", "json_safe"]

_SCRIPT_JSON_REPLACEMENTS = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def html_text(value: Any) -> str:
    """Escape ``value`` for use as the text of an HTML element."""
    return html.escape("" if value is None else str(value), quote=False)


def html_attr(value: Any) -> str:
    """Escape ``value`` for use inside a double- or single-quoted HTML attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _escape_json_text(text: str) -> str:
    for k, v in _SCRIPT_JSON_REPLACEMENTS.items():
        text = text.replace(k, v)
    return text


def json_safe(value: Any) -> Any:
    """Turn numpy/pandas scalars, NaN and timestamps into plain JSON values."""
    try:
        import numpy as np
        import pandas as pd
    except ImportError:  # pragma: no cover
        np = pd = None  # type: ignore[assignment]
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if np is not None:
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            f = float(value)
            return None if math.isnan(f) or math.isinf(f) else f
    if pd is not None:
        if value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    if isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        if pd is not None and pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def js_string(value: Any) -> str:
    """A complete, quoted JavaScript string literal for ``value``, safe inside ``<script>``.

    ``</script>``, ``<!--``, U+2028/U+2029 and quotes cannot end the script or the string.
    """
    return _escape_json_text(json.dumps("" if value is None else str(value), ensure_ascii=False))


def script_json(value: Any) -> str:
    """JSON for ``<script type="application/json">`` or a JS expression, safe against ``</script>``."""
    return _escape_json_text(json.dumps(json_safe(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def template_literal_text(value: Any) -> str:
    """Escape ``value`` for the inside of a JS template literal (`` `...` ``).

    Backslashes, backticks and ``${`` are neutralised, then the text is made safe
    inside ``<script>`` as in :func:`js_string`.
    """
    s = "" if value is None else str(value)
    s = s.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return _escape_json_text(s)
