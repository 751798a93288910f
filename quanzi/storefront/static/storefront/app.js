/* Quanzi storefront: countdowns, quantity steppers, share buttons, toasts. No framework;
   htmx does the partial page updates. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(end)) { return; }
      var left = Math.max(0, Math.floor((end - now) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = pad(h) + ":" + pad(m) + ":" + pad(s);
      if (left === 0 && !el.hasAttribute("data-ended")) {
        el.setAttribute("data-ended", "");
        if (el.hasAttribute("data-reload")) { window.setTimeout(function () { window.location.reload(); }, 1500); }
      }
    });
  }

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.innerHTML = "";
    var inner = document.createElement("div");
    inner.className = "inner";
    inner.setAttribute("role", "status");
    inner.textContent = text;
    box.appendChild(inner);
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
    document.body.removeChild(area);
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var step = event.target.closest("[data-step]");
    if (step) {
      var input = document.getElementById(step.getAttribute("data-for"));
      if (input) {
        var min = parseInt(input.min || "1", 10), max = parseInt(input.max || "999", 10);
        var value = (parseInt(input.value, 10) || min) + parseInt(step.getAttribute("data-step"), 10);
        input.value = String(Math.min(max, Math.max(min, value)));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      event.preventDefault();
      return;
    }
    var share = event.target.closest("[data-share]");
    if (share) {
      event.preventDefault();
      shareLink(share).then(function (url) {
        var title = share.getAttribute("data-title") || document.title;
        var copied = share.getAttribute("data-copied") || "Link copied";
        if (navigator.share) {
          navigator.share({ title: title, url: url }).catch(function () { /* cancelled */ });
        } else {
          copy(url).then(function () { toast(copied); }, function () { toast(url); });
        }
      });
    }
  });

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  /* The person's own tracked share link (/s/<token>), or the page link as a fallback. */
  function shareLink(button) {
    var fallback = button.getAttribute("data-share");
    var target = button.getAttribute("data-share-target");
    if (!target || !window.fetch) { return Promise.resolve(fallback); }
    var body = new FormData();
    body.append("target", target);
    body.append("id", button.getAttribute("data-share-id") || "");
    return fetch("/share/", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (data) { return data.url || fallback; }, function () { return fallback; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", tick);
  window.quanzi = { toast: toast };
})();
