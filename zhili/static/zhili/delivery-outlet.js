// The courier outlet's phone pages: register the service worker (the pages stay readable
// offline), and record inspections that survive a missing network. An inspection waits in
// IndexedDB with the time it was done and is sent when the network returns; a resend after a
// lost answer is harmless, because the server keeps one inspection per waybill and day.
(function () {
  "use strict";
  var T = window.ZL_TEXT || {};
  var body = document.body;
  var api = body.getAttribute("data-api");
  var DB = "zhili-delivery-offline", STORE = "inspections";

  function db() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  function show(kind, text) {
    var el = document.getElementById("result");
    el.className = "alert py-2 alert-" + kind; el.textContent = text;
  }
  function refreshQueue() {
    return all().then(function (items) {
      document.getElementById("queue-count").textContent = items.length;
      document.getElementById("queue-banner").classList.toggle("d-none", items.length === 0);
      return items;
    });
  }
  function csrf() { return document.querySelector("meta[name=csrf-token]").content; }

  // The phone's local time with its offset, e.g. 2026-11-26T09:30:00+08:00.
  function localIso(date) {
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    var off = -date.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  function send(item) {
    var fd = new FormData();
    fd.append("waybill", item.waybill);
    fd.append("result", item.result);
    fd.append("inspected_at", item.inspected_at);
    if (item.photo) { fd.append("photo", item.photo.blob, item.photo.name); }
    return fetch(api, { method: "POST", body: fd, credentials: "same-origin",
                        headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }

  var flushing = false;
  function flush() {
    if (!navigator.onLine || flushing) { return Promise.resolve(); }
    flushing = true;
    return all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return send(item).then(function (res) {
            if (res.status === 200 || res.status === 201) {
              show(res.data.created ? "success" : "info",
                   (res.data.created ? T.sent : T.again) + ": " + res.data.waybill);
              return remove(item.id);
            }
            if (res.status === 401 || res.status === 403) { show("warning", T.signin); return; }
            if (res.status >= 400 && res.status < 500) {
              show("danger", T.failed + " " + item.waybill + ": " + (res.data.message || res.status));
              return remove(item.id);
            }
            // 5xx: keep it for the next attempt.
          }).catch(function () { /* no network after all: keep it */ });
        });
      }, Promise.resolve());
    }).then(function () { flushing = false; return refreshQueue(); },
            function () { flushing = false; });
  }

  function setNet() {
    var el = document.getElementById("net");
    el.textContent = navigator.onLine ? T.online : T.offline;
    el.className = "badge " + (navigator.onLine ? "text-bg-success" : "text-bg-secondary");
  }

  var form = document.getElementById("inspect-form");
  if (form && window.indexedDB) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var waybill = form.elements.waybill.value.replace(/\s+/g, "").toUpperCase();
      if (!waybill) { form.elements.waybill.focus(); return; }
      var checked = form.querySelector("input[name=result]:checked");
      var file = form.elements.photo.files && form.elements.photo.files[0];
      var now = new Date();
      var item = { id: waybill + "@" + now.getTime(), waybill: waybill,
                   result: checked ? checked.value : "passed", inspected_at: localIso(now),
                   photo: file ? { name: file.name, blob: file } : null };
      put(item).then(function () {
        form.reset();
        form.elements.waybill.focus();
        if (!navigator.onLine) { show("warning", T.queued); return refreshQueue(); }
        return flush();
      });
    });
  }

  window.addEventListener("online", function () { setNet(); flush(); });
  window.addEventListener("offline", setNet);
  setNet();
  if (window.indexedDB) { refreshQueue().then(flush); }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(body.getAttribute("data-sw"),
                                     { scope: body.getAttribute("data-scope") }).catch(function () {});
  }
})();
