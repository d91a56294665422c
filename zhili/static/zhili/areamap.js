// Area map without a tile server: boundaries drawn over a plain background (intranet-safe).
(function () {
  var el = document.getElementById("area-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  fetch(el.getAttribute("data-geojson"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var first = data.features.length ? data.features[0].properties.id : null;
      var layer = L.geoJSON(data, {
        style: function (f) {
          var self = f.properties.id === first;
          return { color: self ? "#0b3d6e" : "#3d8bd9", weight: self ? 3 : 1, fillOpacity: self ? 0.04 : 0.12 };
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(f.properties.name + " " + f.properties.code);
          l.on("click", function () { window.location = "/areas/" + f.properties.id + "/"; });
        }
      }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      el.setAttribute("data-features", String(data.features.length));
    });
})();
