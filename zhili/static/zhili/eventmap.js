// The event's position over its area's boundary.
(function () {
  var el = document.getElementById("event-map");
  if (!el || !window.L) { return; }
  var la = parseFloat(el.getAttribute("data-lat")), ln = parseFloat(el.getAttribute("data-lng"));
  var map = L.map(el, { attributionControl: false }).setView([la, ln], 15);
  L.circleMarker([la, ln], { radius: 8, color: "#d63384", fillOpacity: 0.6 }).addTo(map);
  fetch(el.getAttribute("data-geojson"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    L.geoJSON(data, { style: { color: "#3d8bd9", weight: 1, fillOpacity: 0.06 } }).addTo(map);
  });
})();
