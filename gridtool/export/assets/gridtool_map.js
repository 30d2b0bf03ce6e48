/* gridtool offline map page.
 *
 * Builds every layer, popup, legend, search box and control from the JSON in
 * the JSON data block (id "gt-data"). Data never becomes markup: text is put
 * into the DOM with textContent, and the few Leaflet APIs that take HTML strings
 * (layer-control names, attribution) get text escaped by esc().
 */
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"'`]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;"}[c];
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function isColour(c) { return typeof c === "string" && /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(c); }
  function safeColour(c, dflt) { return isColour(c) ? c : dflt; }

  function pathOptions(sym, layerOpacity) {
    var dash = sym.dash === "dash" ? "6 4" : sym.dash === "dot" ? "2 4" : null;
    return {
      color: safeColour(sym.stroke, "#333333"),
      weight: +sym.weight || 0,
      opacity: layerOpacity,
      fillColor: safeColour(sym.fill, "#3388ff"),
      fillOpacity: (+sym.fillOpacity) * layerOpacity,
      dashArray: dash,
      stroke: (+sym.weight || 0) > 0
    };
  }

  function fmtValue(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (Math.abs(v) >= 1000 || Number.isInteger(v)) return v.toLocaleString("zh-CN", {maximumFractionDigits: 2});
      return String(Math.round(v * 1000) / 1000);
    }
    return String(v);
  }

  function buildPopup(layer, i) {
    var box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-popup-title", layer.title));
    var table = el("table", "gt-popup-table");
    layer.fields.forEach(function (f) {
      var v = layer.props[f.key] ? layer.props[f.key][i] : null;
      if (v === null || v === undefined || v === "") return;
      var tr = el("tr");
      tr.appendChild(el("th", null, f.label));
      tr.appendChild(el("td", null, fmtValue(v)));
      table.appendChild(tr);
    });
    if (layer.overdue && layer.overdue[i]) {
      var tr = el("tr", "gt-overdue-row");
      tr.appendChild(el("th", null, layer.text.overdue));
      tr.appendChild(el("td", null, layer.overdueDays ? layer.overdueDays[i] + " " + layer.text.days : ""));
      table.appendChild(tr);
    }
    box.appendChild(table);
    var photos = layer.photos && layer.photos[String(i)];
    if (photos) {
      var strip = el("div", "gt-photos");
      photos.forEach(function (uri) {
        if (typeof uri !== "string" || uri.indexOf("data:image/jpeg;base64,") !== 0) return;
        var img = document.createElement("img");
        img.src = uri;
        img.alt = "";
        strip.appendChild(img);
      });
      box.appendChild(strip);
    }
    return box;
  }

  function tooltipText(layer, i) {
    var key = layer.tooltipField;
    var v = key && layer.props[key] ? layer.props[key][i] : null;
    return el("span", null, v == null ? layer.title : fmtValue(v));
  }

  function latlngsOfRing(flat) {
    var out = new Array(flat.length / 2);
    for (var k = 0; k < flat.length; k += 2) out[k / 2] = [flat[k + 1], flat[k]];
    return out;
  }

  // Path options are built once per symbol (and overdue state) and shared by its features.
  function optionsFor(layer, i, renderer) {
    var overdue = layer.overdue && layer.overdue[i] ? 1 : 0;
    var key = layer.sym[i] * 2 + overdue;
    var cache = layer._opts || (layer._opts = {});
    if (cache[key]) return cache[key];
    var sym = layer.symbols[layer.sym[i]];
    var opts = pathOptions(sym, layer.opacity);
    opts.renderer = renderer;
    if (layer.geom === "point") {
      opts.radius = Math.max(2, (+sym.size || 6) / 2);
      if (overdue) { opts.color = layer.overdueColour; opts.weight = 3; opts.stroke = true; }
    }
    cache[key] = opts;
    return opts;
  }

  function makeFeature(layer, i, renderer) {
    var opts = optionsFor(layer, i, renderer);
    var g = layer.geom, f;
    if (g === "point") {
      f = L.circleMarker([layer.coords[2 * i + 1], layer.coords[2 * i]], opts);
    } else if (g === "line") {
      f = L.polyline(layer.coords[i].map(latlngsOfRing), opts);
    } else {
      f = L.polygon(layer.coords[i].map(function (poly) { return poly.map(latlngsOfRing); }), opts);
    }
    f._gtIndex = i;  // popups and tooltips are bound lazily, by one handler per layer (see bindLazy)
    return f;
  }

  // One click/hover handler per layer instead of a popup and tooltip per feature: 100k
  // features then cost 100k small objects, not 300k closures.
  function ensureBound(layer, f) {
    if (f._gtBound) return;
    f._gtBound = true;
    var i = f._gtIndex;
    f.bindPopup(function () { return buildPopup(layer, i); }, {maxWidth: 360});
    if (layer.tooltipField) f.bindTooltip(function () { return tooltipText(layer, i); }, {sticky: true});
  }
  function bindLazy(layer, group) {
    group.on("click", function (e) {
      var f = e.layer || e.propagatedFrom;
      if (!f || f._gtIndex === undefined || f._gtBound) return;
      ensureBound(layer, f);
      f.openPopup(e.latlng);
    });
    group.on("mouseover", function (e) {
      var f = e.layer || e.propagatedFrom;
      if (!f || f._gtIndex === undefined || f._gtBound) return;
      ensureBound(layer, f);
      if (f.openTooltip) f.openTooltip(e.latlng);
    });
  }

  function init() {
    var data = JSON.parse(document.getElementById("gt-data").textContent);
    var map = window[data.mapVar];
    var renderer = L.canvas({padding: 0.3});
    var overlays = {};
    var counts = {};
    var handles = [];
    var txt = data.text;
    var pending = 0;  // clustered layers still loading in chunks
    var finished = false;
    function chunkDone() { pending--; if (finished && pending === 0) report(); }

    if (data.basemap) {
      L.tileLayer(data.basemap.url, {
        subdomains: data.basemap.subdomains || "abc",
        maxZoom: 18,
        attribution: esc(data.basemap.attribution || "")
      }).addTo(map);
      if (data.basemap.labels) L.tileLayer(data.basemap.labels, {subdomains: data.basemap.subdomains || "abc", maxZoom: 18}).addTo(map);
    }

    data.layers.forEach(function (layer) {
      var n = layer.sym.length, feats = new Array(n);
      for (var i = 0; i < n; i++) feats[i] = makeFeature(layer, i, renderer);
      var group;
      if (layer.cluster) {
        var done = !layer.visible || !feats.length;  // hidden groups cluster only when shown
        if (!done) pending++;
        group = L.markerClusterGroup({
          chunkedLoading: true, chunkInterval: 400, chunkDelay: 10, disableClusteringAtZoom: 17, maxClusterRadius: 50,
          chunkProgress: function (processed, total) { if (total > 0 && processed >= total && !done) { done = true; setTimeout(chunkDone, 0); } }
        });
        if (layer.visible) group.addTo(map);
        group.addLayers(feats);
      } else {
        group = L.featureGroup(feats);
      }
      bindLazy(layer, group);
      if (layer.visible && !map.hasLayer(group)) group.addTo(map);
      if (layer.labels) {
        // labels show only from the layer's label zoom on, and only with their layer
        var labelGroup = L.layerGroup();
        layer.labels.forEach(function (lab) {
          L.tooltip({permanent: true, direction: "center", className: "gt-label gt-label-" + layer.kind, interactive: false})
            .setLatLng([lab[1], lab[0]]).setContent(el("span", null, lab[2])).addTo(labelGroup);
        });
        var syncLabels = function () {
          var want = map.hasLayer(group) && map.getZoom() >= (layer.labelMinZoom || 0);
          if (want && !map.hasLayer(labelGroup)) labelGroup.addTo(map);
          if (!want && map.hasLayer(labelGroup)) map.removeLayer(labelGroup);
        };
        map.on("zoomend overlayadd overlayremove", syncLabels);
        setTimeout(syncLabels, 0);
      }
      overlays[esc(layer.title)] = group;
      counts[layer.id] = n;
      handles.push({layer: layer, group: group, feats: feats});
    });
    L.control.layers(null, overlays, {collapsed: false, position: "topright"}).addTo(map);
    L.control.scale({metric: true, imperial: false, position: "bottomleft"}).addTo(map);

    // title block
    var TitleCtl = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var box = el("div", "gt-title leaflet-bar");
        box.appendChild(el("div", "gt-title-main", data.meta.title));
        if (data.meta.subtitle) box.appendChild(el("div", "gt-title-sub", data.meta.subtitle));
        var line = [data.meta.date, data.meta.author].filter(Boolean).join(" · ");
        if (line) box.appendChild(el("div", "gt-title-meta", line));
        L.DomEvent.disableClickPropagation(box);
        return box;
      }
    });
    new TitleCtl().addTo(map);

    // legend
    var LegendCtl = L.Control.extend({
      options: {position: "bottomright"},
      onAdd: function () {
        var box = el("div", "gt-legend");
        box.id = "gt-legend";
        box.appendChild(el("div", "gt-legend-head", txt.legend));
        data.layers.forEach(function (layer) {
          if (!layer.legend || !layer.legend.length) return;
          var sec = el("div", "gt-legend-layer");
          var single = layer.legend.length === 1 && !layer.legendHasLabels;
          if (!single) sec.appendChild(el("div", "gt-legend-title", layer.title));
          layer.legend.forEach(function (entry) {
            var row = el("div", "gt-legend-row");
            var sw = el("span", "gt-swatch gt-swatch-" + layer.geom);
            var s = layer.symbols[entry[1]];
            sw.style.background = layer.geom === "line" ? safeColour(s.stroke, "#333") : safeColour(s.fill, "#3388ff");
            sw.style.borderColor = safeColour(s.stroke, "#333");
            if (layer.geom === "polygon") sw.style.opacity = String(Math.max(0.25, +s.fillOpacity || 0));
            row.appendChild(sw);
            row.appendChild(el("span", "gt-legend-label", entry[0]));
            sec.appendChild(row);
          });
          if (layer.overdue && layer.overdue.some(Boolean)) {
            var row = el("div", "gt-legend-row");
            var sw = el("span", "gt-swatch gt-swatch-point gt-swatch-overdue");
            sw.style.borderColor = layer.overdueColour;
            row.appendChild(sw);
            row.appendChild(el("span", "gt-legend-label", txt.overdue));
            sec.appendChild(row);
          }
          box.appendChild(sec);
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    new LegendCtl().addTo(map);

    // data source line
    var SourceCtl = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () { return el("div", "gt-source", data.meta.source); }
    });
    new SourceCtl().addTo(map);

    // north arrow (static markup, no data)
    var NorthCtl = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var box = el("div", "gt-north");
        box.innerHTML = '<svg width="34" height="46" viewBox="0 0 34 46" aria-label="N">' +
          '<polygon points="17,2 27,34 17,27 7,34" fill="#222"/><polygon points="17,2 17,27 7,34" fill="#888"/>' +
          '<text x="17" y="45" text-anchor="middle" font-size="12" font-weight="bold" fill="#222">N</text></svg>';
        return box;
      }
    });
    new NorthCtl().addTo(map);

    // fullscreen and print
    var ButtonsCtl = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var bar = el("div", "leaflet-bar gt-buttons");
        var fs = el("a", "gt-btn gt-btn-fullscreen", txt.fullscreen);
        fs.href = "#"; fs.title = txt.fullscreen; fs.setAttribute("role", "button");
        L.DomEvent.on(fs, "click", function (e) {
          L.DomEvent.preventDefault(e);
          if (document.fullscreenElement) document.exitFullscreen();
          else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
        });
        var pr = el("a", "gt-btn gt-btn-print", txt.print);
        pr.href = "#"; pr.title = txt.print; pr.setAttribute("role", "button");
        L.DomEvent.on(pr, "click", function (e) { L.DomEvent.preventDefault(e); window.print(); });
        bar.appendChild(fs); bar.appendChild(pr);
        L.DomEvent.disableClickPropagation(bar);
        return bar;
      }
    });
    new ButtonsCtl().addTo(map);

    // search by grid name/code and finding id
    var SearchCtl = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var box = el("div", "gt-search");
        var input = el("input");
        input.type = "search"; input.placeholder = txt.search;
        var list = el("div", "gt-search-results");
        box.appendChild(input); box.appendChild(list);
        function go(hit) {
          var h = handles[hit[1]], f = h.feats[hit[2]];
          ensureBound(h.layer, f);
          if (h.group.zoomToShowLayer) h.group.zoomToShowLayer(f, function () { f.openPopup(); });
          else {
            if (f.getBounds) map.fitBounds(f.getBounds(), {maxZoom: 16}); else map.setView(f.getLatLng(), 17);
            f.openPopup();
          }
        }
        L.DomEvent.on(input, "input", function () {
          list.textContent = "";
          var q = input.value.trim().toLowerCase();
          if (!q) return;
          var shown = 0;
          for (var k = 0; k < data.search.length && shown < 12; k++) {
            var hit = data.search[k];
            if (String(hit[0]).toLowerCase().indexOf(q) < 0) continue;
            var b = el("a", "gt-search-hit", hit[0] + " · " + data.layers[hit[1]].title);
            b.href = "#";
            (function (hh) { L.DomEvent.on(b, "click", function (e) { L.DomEvent.preventDefault(e); go(hh); }); })(hit);
            list.appendChild(b);
            shown++;
          }
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    new SearchCtl().addTo(map);

    if (data.bounds) map.fitBounds(data.bounds, {maxZoom: 17});

    function renderAllPopups() {
      // Builds every popup and tooltip once (used by tests to prove no text runs as code).
      var sink = el("div");
      sink.style.display = "none";
      document.body.appendChild(sink);
      handles.forEach(function (h) {
        for (var i = 0; i < h.feats.length; i++) {
          sink.appendChild(buildPopup(h.layer, i));
          sink.appendChild(tooltipText(h.layer, i));
        }
      });
      return sink.childNodes.length;
    }

    var status = el("div");
    status.id = "gt-status";
    status.style.display = "none";
    function report() {
      var total = 0;
      handles.forEach(function (h) { counts[h.layer.id] = h.group.getLayers().filter(function (x) { return x._gtIndex !== undefined; }).length; total += counts[h.layer.id]; });
      status.setAttribute("data-ready", "1");
      status.setAttribute("data-counts", JSON.stringify(counts));
      status.setAttribute("data-total", String(total));
      status.setAttribute("data-errors", JSON.stringify(errors));
      status.setAttribute("data-legend", document.getElementById("gt-legend") ? "1" : "0");
      status.setAttribute("data-pwned", String(window.__pwned || 0));
      status.setAttribute("data-ms", String(Math.round(performance.now())));
      document.title = (data.meta.title || "map") + " ✓";
    }
    document.body.appendChild(status);
    window.__gridtool = {map: map, counts: counts, errors: errors, renderAllPopups: renderAllPopups};
    if (data.test) {
      status.setAttribute("data-popups", String(renderAllPopups()));
      // open a few popups for real, through Leaflet, to exercise its own code paths too
      handles.forEach(function (h) {
        if (h.feats.length && !h.layer.cluster) { ensureBound(h.layer, h.feats[0]); h.feats[0].openPopup(); if (h.feats[0].getTooltip()) h.feats[0].openTooltip(); }
      });
    }
    finished = true;
    if (pending === 0) report();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
