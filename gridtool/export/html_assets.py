"""Web assets for offline HTML maps, read from installed registry packages.

Leaflet 1.9.3 comes from ``XStatic-Leaflet`` (byte-identical to the file folium links
to on its CDN) and Leaflet.markercluster from ``XStatic-Leaflet-MarkerCluster``; our own
controls (legend, search, title, north arrow, fullscreen, print, popups) live in
``gridtool/export/assets/``. Everything is returned as text ready to be inlined, with
CSS images turned into ``data:`` URIs, so the exported page fetches nothing.
"""
from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

from gridtool.errors import InputError

__all__ = ["leaflet_js", "leaflet_css", "markercluster_js", "markercluster_css", "app_js", "app_css", "inline_script", "inline_style"]

_ASSETS = Path(__file__).with_name("assets")


def _xstatic_dir(module: str, package: str) -> Path:
    try:
        mod = __import__(module, fromlist=["BASE_DIR"])
    except ImportError as exc:
        raise InputError(
            f"the offline web assets are missing ({module}); install them with 'pip install {package}'"
        ) from exc
    return Path(mod.BASE_DIR)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    mime = {"png": "image/png", "svg": "image/svg+xml", "gif": "image/gif"}[path.suffix.lstrip(".").lower()]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.lru_cache(maxsize=None)
def leaflet_js() -> str:
    """Leaflet's JavaScript, plus default-icon paths pointing at inlined images."""
    d = _xstatic_dir("xstatic.pkg.leaflet", "XStatic-Leaflet")
    js = _read(d / "leaflet.js")
    icon = _data_uri(d / "images" / "marker-icon.png")
    icon2 = _data_uri(d / "images" / "marker-icon-2x.png")
    shadow = _data_uri(d / "images" / "marker-shadow.png")
    # Leaflet cannot detect its image path from inline CSS; give the icons directly.
    js += (
        "\nL.Icon.Default.imagePath='';L.Icon.Default.mergeOptions("
        f"{{iconUrl:'{icon}',iconRetinaUrl:'{icon2}',shadowUrl:'{shadow}'}});\n"
    )
    return js


@functools.lru_cache(maxsize=None)
def leaflet_css() -> str:
    d = _xstatic_dir("xstatic.pkg.leaflet", "XStatic-Leaflet")
    css = _read(d / "leaflet.css")

    def repl(m: re.Match[str]) -> str:
        return f"url({_data_uri(d / 'images' / m.group(1))})"

    return re.sub(r"url\(images/([\w.\-]+)\)", repl, css)


@functools.lru_cache(maxsize=None)
def markercluster_js() -> str:
    d = _xstatic_dir("xstatic.pkg.leaflet_markercluster", "XStatic-Leaflet-MarkerCluster")
    return _read(d / "leaflet.markercluster.js")


@functools.lru_cache(maxsize=None)
def markercluster_css() -> str:
    d = _xstatic_dir("xstatic.pkg.leaflet_markercluster", "XStatic-Leaflet-MarkerCluster")
    return _read(d / "MarkerCluster.css") + "\n" + _read(d / "MarkerCluster.Default.css")


@functools.lru_cache(maxsize=None)
def app_js() -> str:
    """Our page script: builds layers, popups, legend, search and controls from JSON data."""
    return _read(_ASSETS / "gridtool_map.js")


@functools.lru_cache(maxsize=None)
def app_css() -> str:
    return _read(_ASSETS / "gridtool_map.css")


def inline_script(js: str) -> str:
    """A ``<script>`` element holding ``js``; a literal ``</script`` inside cannot close it."""
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE) + "</script>"


def inline_style(css: str) -> str:
    """A ``<style>`` element holding ``css``."""
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE) + "</style>"
