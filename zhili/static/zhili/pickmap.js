// Location picker on the report form: boundaries without tiles; a click sets lat/lng.
(function () {
  var el = document.getElementById("pick-map");
  if (!el || !window.L) { return; }
  var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
  var map = L.map(el, { attributionControl: false }), marker = null;
  function place(la, ln) {
    lat.value = la.toFixed(6); lng.value = ln.toFixed(6);
    if (marker) { marker.setLatLng([la, ln]); } else { marker = L.circleMarker([la, ln], { radius: 7, color: "#d63384" }).addTo(map); }
  }
  map.setView([32.0, 120.9], 9);
  var url = el.getAttribute("data-geojson");
  if (url) {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var layer = L.geoJSON(data, { style: { color: "#3d8bd9", weight: 1, fillOpacity: 0.08 } }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
    });
  }
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
  var gps = document.getElementById("use-gps");
  if (gps) {
    gps.addEventListener("click", function () {
      navigator.geolocation && navigator.geolocation.getCurrentPosition(function (p) {
        place(p.coords.latitude, p.coords.longitude); map.setView([p.coords.latitude, p.coords.longitude], 15);
      });
    });
  }
  if (lat.value && lng.value) { place(parseFloat(lat.value), parseFloat(lng.value)); }
})();
