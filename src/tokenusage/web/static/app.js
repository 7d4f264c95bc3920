// tokenusage dashboard: keyboard paging and auto-refresh. No inline script (strict CSP), no
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
    if (typingIn(event.target)) return;
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
