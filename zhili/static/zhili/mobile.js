// Grid worker's phone page: report with photos and GPS; when the network is down, reports
// wait in IndexedDB and are sent when it returns (each carries a client UUID, so a resend
// after a lost answer never creates a second event).
(function () {
  "use strict";
  var T = window.ZL_TEXT || {};
  var body = document.body;
  var api = body.getAttribute("data-api");
  var DB = "zhili-offline", STORE = "reports";

  function db() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_uuid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), s = t.objectStore(STORE), out = fn(s);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 0x3 | 0x8)).toString(16);
    });
  }
  function show(kind, text) {
    var el = document.getElementById("result");
    el.className = "alert alert-" + kind; el.textContent = text;
  }
  function refreshQueue() {
    return all().then(function (items) {
      document.getElementById("queue-count").textContent = items.length;
      document.getElementById("queue-banner").classList.toggle("d-none", items.length === 0);
      return items;
    });
  }
  function csrf() { return document.querySelector("meta[name=csrf-token]").content; }

  function send(item) {
    var fd = new FormData();
    Object.keys(item.fields).forEach(function (k) { if (item.fields[k] !== "") { fd.append(k, item.fields[k]); } });
    fd.append("client_uuid", item.client_uuid);
    item.photos.forEach(function (p) { fd.append("photos", p.blob, p.name); });
    return fetch(api, { method: "POST", body: fd, credentials: "same-origin",
                        headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }

  function flush() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return send(item).then(function (res) {
            if (res.status === 201) {
              show("success", T.sent + " " + res.data.number);
              return remove(item.client_uuid);
            }
            if (res.status === 401 || res.status === 403) { show("warning", T.signin); return; }
            if (res.status >= 400 && res.status < 500) {
              show("danger", T.failed + ": " + (res.data.message || res.status));
              return remove(item.client_uuid);
            }
          }).catch(function () { /* still offline: keep it */ });
        });
      }, Promise.resolve());
    }).then(refreshQueue);
  }

  function setNet() {
    var el = document.getElementById("net");
    el.textContent = navigator.onLine ? T.online : T.offline;
    el.className = "badge " + (navigator.onLine ? "text-bg-success" : "text-bg-secondary");
  }

  document.getElementById("m-gps").addEventListener("click", function () {
    if (!navigator.geolocation) { document.getElementById("m-where").textContent = T.noGps; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("m-lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("m-lng").value = pos.coords.longitude.toFixed(6);
      document.getElementById("m-where").textContent = pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
    }, function () { document.getElementById("m-where").textContent = T.noGps; }, { enableHighAccuracy: true, timeout: 15000 });
  });

  document.getElementById("report-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, fields = {};
    ["category", "description", "urgency", "lat", "lng", "area_code"].forEach(function (k) { fields[k] = form.elements[k].value; });
    fields.solved_on_spot = form.elements.solved_on_spot.checked ? "true" : "false";
    if (fields.lat) { fields.area_code = ""; }  // the position locates the grid
    var files = Array.prototype.slice.call(form.elements.photos.files || []);
    var item = { client_uuid: uuid(), fields: fields, created: Date.now(),
                 photos: files.map(function (f) { return { name: f.name, blob: f }; }) };
    put(item).then(function () {
      form.reset();
      document.getElementById("m-where").textContent = "";
      if (!navigator.onLine) { show("warning", T.queued); return refreshQueue(); }
      return flush();
    });
  });

  window.addEventListener("online", function () { setNet(); flush(); });
  window.addEventListener("offline", setNet);
  setNet();
  refreshQueue().then(flush);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(body.getAttribute("data-sw"), { scope: "/events/m/" }).catch(function () {});
  }
})();
