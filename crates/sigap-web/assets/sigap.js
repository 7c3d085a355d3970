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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addCopyButtons);
  } else {
    addCopyButtons();
  }
})();
