// Small behaviours shared by every page. htmx sends the CSRF token with each request.
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector("meta[name=csrf-token]");
  if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
});
document.addEventListener("click", function (event) {
  var toggle = event.target.closest("[data-zl-toggle-sidebar]");
  if (toggle) { document.querySelector(".zl-sidebar").classList.toggle("show"); }
  var confirmer = event.target.closest("[data-zl-confirm]");
  if (confirmer && !window.confirm(confirmer.getAttribute("data-zl-confirm"))) {
    event.preventDefault();
  }
});
