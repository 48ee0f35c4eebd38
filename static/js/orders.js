// Rectification order pages: evidence picker, busy buttons, deadline mode. No inline scripts.
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) { return (bytes / 1024 / 1024).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  // List the files chosen in every picker of a form (camera and file chooser together).
  document.querySelectorAll(".evidence-picker").forEach(function (picker) {
    var list = picker.querySelector(".file-list");
    var inputs = picker.querySelectorAll("input[type=file]");
    function render() {
      list.textContent = "";
      var count = 0;
      inputs.forEach(function (input) {
        Array.prototype.forEach.call(input.files || [], function (file) {
          var item = document.createElement("li");
          var icon = document.createElement("i");
          icon.className = "bi " + (file.type === "application/pdf" ? "bi-file-earmark-pdf" : "bi-image");
          icon.setAttribute("aria-hidden", "true");
          item.appendChild(icon);
          item.appendChild(document.createTextNode(" " + file.name + " (" + formatSize(file.size) + ")"));
          list.appendChild(item);
          count += 1;
        });
      });
      if (!count) {
        var empty = document.createElement("li");
        empty.className = "text-secondary";
        empty.textContent = list.getAttribute("data-empty");
        list.appendChild(empty);
      }
    }
    inputs.forEach(function (input) { input.addEventListener("change", render); });
  });

  // A slow upload on a phone must not be sent twice: the button waits once the form goes.
  // Reporting without evidence is stopped here, before the typed note is lost to a reload.
  document.querySelectorAll("form.step-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var picker = form.querySelector(".evidence-picker");
      if (picker) {
        var chosen = Array.prototype.some.call(picker.querySelectorAll("input[type=file]"), function (i) {
          return i.files && i.files.length > 0;
        });
        if (!chosen) {
          event.preventDefault();
          var list = picker.querySelector(".file-list");
          list.textContent = "";
          var item = document.createElement("li");
          item.className = "text-danger fw-semibold";
          item.textContent = picker.getAttribute("data-missing");
          list.appendChild(item);
          picker.querySelector("input[type=file]").focus();
          return;
        }
      }
      var button = form.querySelector("button[type=submit][data-busy-text]");
      if (!button) { return; }
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = button.getAttribute("data-busy-text");
      }, 0);
    });
  });

  // Issue form: only the chosen way of giving the deadline is editable.
  var modes = document.querySelectorAll("input[name=deadline_mode]");
  if (modes.length) {
    var days = document.getElementById("id_working_days");
    var date = document.getElementById("id_deadline");
    var sync = function () {
      var chosen = document.querySelector("input[name=deadline_mode]:checked");
      var byDays = !chosen || chosen.value === "days";
      if (days) { days.disabled = !byDays; }
      if (date) { date.disabled = byDays; }
    };
    modes.forEach(function (m) { m.addEventListener("change", sync); });
    sync();
  }
})();
