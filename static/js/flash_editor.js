/* The flash report editor: htmx autosaves the form a few seconds after typing stops (see the
   form's hx-trigger). A refused save (409: someone else saved; 400: bad input) still shows its
   message instead of failing silently, and leaving with unsaved typing asks first. */
(function () {
  "use strict";
  var form = document.getElementById("flash-editor");
  if (!form) { return; }
  var dirty = false;
  form.addEventListener("input", function (event) {
    if (event.target.type !== "search") { dirty = true; }
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt !== form) { return; }
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === form && event.detail.xhr.status === 200) { dirty = false; }
  });
  document.body.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt !== form) { return; }
    var state = document.getElementById("save-state");
    if (state) { state.textContent = state.dataset.offline || ""; }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  /* A ticked search result moves into the linked list, so the next search does not drop it. */
  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.type !== "checkbox" || !box.closest("[id^=results-]")) { return; }
    var section = box.closest(".link-box");
    var list = section && section.querySelector("ul");
    var item = box.closest("li");
    if (list && item && box.checked) {
      var empty = list.querySelector("li.text-secondary");
      if (empty) { empty.remove(); }
      list.appendChild(item);
    }
  });
})();
