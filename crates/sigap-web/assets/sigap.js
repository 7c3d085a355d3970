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
    livePreview();
    suggestArticles();
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

  // The article editor: the pane beside the Markdown body shows it rendered by the server
  // (its sanitized HTML, never the text typed), a moment after typing stops. Without this
  // the form's "Preview" button renders it.
  function livePreview() {
    if (!window.fetch) return;
    document.querySelectorAll("textarea[data-preview-api]").forEach(function (area) {
      var pane = document.getElementById(area.getAttribute("data-preview"));
      if (!pane) return;
      var api = area.getAttribute("data-preview-api");
      var timer = null;
      var asked = 0;
      area.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          var mine = ++asked;
          fetch(api, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Accept": "application/json" },
            body: JSON.stringify({ body: area.value })
          })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (out) {
              // An older answer arriving late is dropped.
              if (mine !== asked || !out || typeof out.html !== "string") return;
              pane.innerHTML = out.html;
            }, function () { /* The pane keeps the last preview. */ });
        }, 300);
      });
    });
  }

  // The portal's report form: while the short description is typed, articles that may
  // solve the problem are listed under it, each with "this solved my problem" (a real form
  // post that records the deflection; no incident is opened). The list is built with
  // textContent only: nothing from the answer is read as markup.
  function suggestArticles() {
    var box = document.getElementById("kb-suggest");
    var form = document.getElementById("report-incident");
    var list = document.getElementById("kb-suggest-list");
    var holder = document.getElementById("kb-solved-forms");
    if (!box || !form || !list || !holder || !window.fetch) return;
    var input = form.querySelector("input[name=short_description]");
    if (!input) return;
    var api = box.getAttribute("data-suggest-api");
    var solvedLabel = box.getAttribute("data-solved-label") || "";
    var title = document.getElementById("kb-suggest-title");
    var timer = null;
    var asked = 0;
    var shownFor = null;

    function show(items, typed) {
      list.textContent = "";
      holder.textContent = "";
      items.forEach(function (k, n) {
        if (!k || typeof k.number !== "string") return;
        var page = "/portal/knowledge/" + encodeURIComponent(k.number);
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = page;
        link.textContent = typeof k.title === "string" ? k.title : k.number;
        li.appendChild(link);
        if (typeof k.summary === "string" && k.summary) {
          var summary = document.createElement("span");
          summary.className = "muted kb-summary";
          summary.textContent = k.summary;
          li.appendChild(summary);
        }
        // The form lives outside the report form (forms do not nest); its button, in the
        // list, belongs to it through the form attribute.
        var solved = document.createElement("form");
        solved.method = "post";
        solved.action = page + "/solved";
        solved.id = "kb-solved-" + n;
        var q = document.createElement("input");
        q.type = "hidden";
        q.name = "q";
        q.value = typed;
        solved.appendChild(q);
        holder.appendChild(solved);
        var button = document.createElement("button");
        button.type = "submit";
        button.setAttribute("form", solved.id);
        button.formNoValidate = true;
        button.textContent = solvedLabel;
        li.appendChild(button);
        list.appendChild(li);
      });
      if (title) title.hidden = list.children.length === 0;
      shownFor = typed;
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var typed = input.value.trim();
      var mine = ++asked;
      if (typed.length < 3) {
        if (shownFor !== null) show([], typed);
        return;
      }
      timer = window.setTimeout(function () {
        fetch(api + "?q=" + encodeURIComponent(typed), {
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (out) {
            // Only the answer to the latest text is shown.
            if (mine !== asked) return;
            show(out && Array.isArray(out.items) ? out.items : [], typed);
          }, function () { /* No suggestions: the form works as before. */ });
      }, 250);
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

  // A list that refreshes itself (the alert console): every data-refresh-secs seconds, while
  // the page is visible, the fragment at data-refresh replaces the list.
  if (window.fetch) {
    document.querySelectorAll("[data-refresh]").forEach(function (box) {
      var url = box.getAttribute("data-refresh");
      var secs = parseInt(box.getAttribute("data-refresh-secs"), 10) || 15;
      window.setInterval(function () {
        if (document.hidden) return;
        fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) box.innerHTML = html; })
          .catch(function () {});
      }, secs * 1000);
    });
  }
})();
