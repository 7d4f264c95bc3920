// tokenusage dashboard: keyboard paging, the table's row detail, Clear Cache's confirmation
// and auto-refresh. No inline script (strict CSP), no
// build step, no dependencies. Everything configurable comes from data-* attributes.
(function () {
  "use strict";

  function typingIn(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // Left/Right arrows follow the pager's rel=prev / rel=next links (not while typing).
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    if (typingIn(event.target) || document.querySelector("dialog[open]")) return;
    var rel = event.key === "ArrowLeft" ? "prev" : event.key === "ArrowRight" ? "next" : null;
    if (!rel) return;
    // A focused table that is wider than its box scrolls sideways with the arrows instead.
    var box = event.target.closest && event.target.closest(".table-scroll");
    if (box && box.scrollWidth > box.clientWidth) return;
    var link = document.querySelector('.pager a[rel="' + rel + '"]');
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });

  // A form with data-confirm="<dialog id>" asks first: the dialog holds the real, confirmed
  // form (confirm=1). Without this script the bare form gets a confirmation page instead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var id = form.getAttribute && form.getAttribute("data-confirm");
    var dialog = id && document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    dialog.showModal();
  });

  // The table: one tab stop. Up/Down move a roving focus between the rows; Enter, Space or a
  // click opens the row's detail, filled from the row's cells and data-* attributes.
  var table = document.getElementById("history-table");
  var detail = document.getElementById("row-detail");
  if (table && detail) {
    var rows = table.querySelectorAll("tbody tr");
    var put = function (field, text) {
      var dd = detail.querySelector('[data-field="' + field + '"]');
      if (dd) dd.textContent = text;
    };
    var open = function (row) {
      var cells = row.cells;
      var split = (row.getAttribute("data-split") || "").split(" ");
      var count = function (n) { return n === "" || n === undefined ? "\u2014" : Number(n).toLocaleString(document.documentElement.lang); };
      put("id", row.getAttribute("data-id"));
      put("date", cells[0].textContent);
      put("type", cells[1].textContent);
      put("service", cells[2].getAttribute("title") || cells[2].textContent);
      // Formatted by the server: the cell, or every digit when the column rounds it.
      put("amount", cells[3].getAttribute("data-exact") || cells[3].textContent);
      put("tokens", cells[4].textContent);
      put("input", count(split[0]));
      put("completion", count(split[1]));
      put("cached", count(split[2]));
      put("images", cells[5].textContent);
      put("description", cells[6].textContent);
      detail.returnTo = row;
      detail.showModal();
    };
    var current = -1;
    var focusRow = function (index) {
      if (!rows.length) return;
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (current >= 0 && rows[current]) rows[current].removeAttribute("tabindex");
      current = index;
      rows[index].setAttribute("tabindex", "-1");
      rows[index].focus();
    };
    table.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var row = event.target.closest && event.target.closest("tbody tr");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var at = row ? Array.prototype.indexOf.call(rows, row) : -1;
        focusRow(event.key === "ArrowDown" ? at + 1 : (at < 0 ? 0 : at - 1));
      } else if (row && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        open(row);
      } else if (row && (event.key === "Home" || event.key === "End")) {
        event.preventDefault();
        focusRow(event.key === "Home" ? 0 : rows.length - 1);
      }
    });
    table.addEventListener("click", function (event) {
      var row = event.target.closest && event.target.closest("tbody tr");
      if (row && !(window.getSelection && String(window.getSelection()))) open(row);
    });
    detail.addEventListener("close", function () {
      if (detail.returnTo) detail.returnTo.focus();
    });
  }

  // Auto-refresh revalidates: an incremental sync (POST with the CSRF token), then a reload.
  // It never purges caches. A hidden tab waits until it is shown again.
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-auto-refresh") || "0", 10);
  var syncUrl = body.getAttribute("data-sync-url");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  if (!(seconds > 0) || !syncUrl || !tokenMeta) return;

  var running = false;
  function revalidate() {
    if (running) return;
    if (document.hidden) {
      document.addEventListener("visibilitychange", revalidate, { once: true });
      return;
    }
    running = true;
    body.setAttribute("data-refreshing", "true");
    fetch(syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": tokenMeta.getAttribute("content"), Accept: "application/json" },
    })
      .catch(function () { return null; })
      .then(function () { window.location.reload(); });
  }
  window.setTimeout(revalidate, seconds * 1000);
})();
