// Sigap: small progressive enhancements. Every page works without this file.
// User-visible text comes from the page (data- attributes), never from here.
(function () {
  "use strict";

  // Ask before submitting a form that carries data-confirm (e.g. form.danger-zone).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // A "copy" button next to a one-time token, if the page supplies its labels
  // (data-copy-label, data-copied-label) and the browser has the Clipboard API.
  function addCopyButtons() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("code.token-once[data-copy-label]").forEach(function (code) {
      var label = code.getAttribute("data-copy-label");
      var done = code.getAttribute("data-copied-label") || label;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "token-copy";
      button.textContent = label;
      var status = document.createElement("span");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent.trim()).then(function () {
          button.textContent = done;
          status.textContent = done;
          window.setTimeout(function () {
            button.textContent = label;
            status.textContent = "";
          }, 2500);
        }, function () { /* Copy refused: the token stays selectable by hand. */ });
      });
      code.insertAdjacentElement("afterend", button);
      button.insertAdjacentElement("afterend", status);
    });
  }

  // Close the user menu on Escape or on a click elsewhere.
  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.user-menu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.user-menu[open]");
    if (!open) return;
    open.removeAttribute("open");
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });

  function start() {
    addCopyButtons();
    watchKnownIncidents();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  // The portal's report form: when a service is chosen, show what is already known about it.
  function watchKnownIncidents() {
    var box = document.getElementById("known");
    var form = document.getElementById("report-incident");
    if (!box || !form || !window.fetch) return;
    var select = form.querySelector("select[name=service]");
    var list = document.getElementById("known-list");
    if (!select || !list) return;
    select.addEventListener("change", function () {
      var none = document.getElementById("known-none");
      if (none) none.remove();
      if (!select.value) { box.hidden = true; return; }
      var url = box.getAttribute("data-known-api") + "?service=" + encodeURIComponent(select.value);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          list.textContent = "";
          items.forEach(function (k) {
            var li = document.createElement("li");
            var num;
            if (k.yours) {
              num = document.createElement("a");
              num.href = "/portal/incidents/" + encodeURIComponent(k.number);
            } else {
              num = document.createElement("span");
              num.className = "number";
            }
            num.textContent = k.number;
            li.appendChild(num);
            li.appendChild(document.createTextNode(" " + k.short_description + " "));
            var st = document.createElement("span");
            st.className = "muted";
            st.textContent = box.getAttribute("data-state-" + k.state) || k.state;
            li.appendChild(st);
            list.appendChild(li);
          });
          box.hidden = items.length === 0;
        }, function () { box.hidden = true; });
    });
  }

  // An order form's variable asked only when an earlier one has a given answer
  // (data-when, data-equals) is hidden, and not sent, while it does not.
  function answersOf(form, name) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name || el.disabled) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) out.push(el.value);
      } else {
        out.push(el.value);
      }
    });
    return out;
  }
  function applyConditions(form) {
    form.querySelectorAll(".var[data-when]").forEach(function (box) {
      var shown = answersOf(form, box.getAttribute("data-when"))
        .indexOf(box.getAttribute("data-equals")) !== -1;
      box.hidden = !shown;
      box.querySelectorAll("input, select, textarea").forEach(function (el) {
        el.disabled = !shown;
      });
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector(".var[data-when]")) return;
    form.addEventListener("change", function () { applyConditions(form); });
    applyConditions(form);
  });
})();
