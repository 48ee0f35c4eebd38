// Page behaviour shared by every page. No inline scripts anywhere (CSP-ready).
(function () {
  "use strict";
  // Ask before destructive actions: <button data-confirm="…">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // A multiple-choice filter (checkboxes in a dropdown) names what is chosen on its button.
  document.addEventListener("change", function (event) {
    if (!event.target.classList || !event.target.classList.contains("filter-check")) { return; }
    var box = event.target.closest(".filter-multi");
    var text = box && box.querySelector(".filter-multi-text");
    if (!text) { return; }
    var chosen = Array.prototype.map.call(box.querySelectorAll(".filter-check:checked"), function (c) {
      return box.querySelector("label[for='" + c.id + "']").textContent;
    });
    text.textContent = chosen.length ? chosen.join(" ") : gettext("All");
  });
  // A choice that stands for a request on its own: <select data-autosubmit> sends its form.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-autosubmit]") && event.target.form) {
      event.target.form.requestSubmit();
    }
  });
  // <button data-print> prints the page.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
  // htmx errors become a visible message instead of a silent failure.
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var text = status === 403 ? gettext("You are not allowed to do this.")
      : status === 404 ? gettext("It does not exist, or you do not have access to it.")
      : interpolate(gettext("The request failed (%s). Try again later."), [status]);
    window.alert(text);
  });
  document.body.addEventListener("htmx:sendError", function () {
    window.alert(gettext("The network is unreachable. Check the connection and try again."));
  });
})();
