// The visit page: fill the hidden latitude/longitude from the phone's position on request.
(function () {
  "use strict";
  var button = document.getElementById("v-gps");
  var where = document.getElementById("v-where");
  if (!button || !navigator.geolocation) { return; }
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude.toFixed(6), lng = pos.coords.longitude.toFixed(6);
      document.getElementById("id_lat").value = lat;
      document.getElementById("id_lng").value = lng;
      where.textContent = lat + ", " + lng;
    }, function () { where.textContent = where.getAttribute("data-none"); },
    { enableHighAccuracy: true, timeout: 15000 });
  });
})();
