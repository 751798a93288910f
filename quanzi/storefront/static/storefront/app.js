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
    var copyButton = event.target.closest("[data-copy]");
    if (copyButton) {
      event.preventDefault();
      var text = copyButton.getAttribute("data-copy");
      copy(text).then(function () { toast(copyButton.getAttribute("data-copied") || text); },
        function () { toast(text); });
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

/* Submit buttons say they are working and cannot be pressed twice. */
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented) return;
  var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
  if (!button || button.hasAttribute("hx-post")) return;
  var trigger = form.getAttribute("hx-trigger");
  if (form.hasAttribute("hx-post") && (!trigger || trigger.indexOf("submit") >= 0)) return;
  window.setTimeout(function () {
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    var text = button.getAttribute("data-loading");
    if (text) button.textContent = text;
  }, 0);
});

/* Confirmation before an action that cannot be undone (data-confirm on the form). */
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
}, true);

/* Lottery: light the ring cell by cell and stop on the drawn prize, then the sheet. */
(function () {
  var grid = document.getElementById("lottery-grid");
  var sheet = document.getElementById("prize-sheet");
  if (!grid || !sheet) return;
  var stop = parseInt(grid.getAttribute("data-stop"), 10);
  if (isNaN(stop) || window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  sheet.hidden = true;
  var cells = grid.querySelectorAll(".cell[data-index]");
  var steps = 16 + stop, i = 0;
  function tick() {
    cells.forEach(function (c) { c.classList.remove("lit"); });
    grid.querySelector('.cell[data-index="' + (i % 8) + '"]').classList.add("lit");
    if (i >= steps) { window.setTimeout(function () { sheet.hidden = false; }, 350); return; }
    i += 1;
    window.setTimeout(tick, 60 + Math.max(0, i - steps + 6) * 45);
  }
  tick();
})();

/* Sheets close on their backdrop or their close button. */
document.addEventListener("click", function (event) {
  var opener = event.target.closest("[data-sheet]");
  if (opener) {
    var target = document.getElementById(opener.getAttribute("data-sheet"));
    if (target) { event.preventDefault(); target.hidden = false; }
    return;
  }
  if (event.target.classList.contains("sheet-backdrop") || event.target.closest("[data-sheet-close]")) {
    var backdrop = event.target.closest(".sheet-backdrop");
    if (backdrop && backdrop.getAttribute("data-closable") !== "false") backdrop.hidden = true;
  }
});

/* Back to a page kept in memory: its buttons work again. */
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll('button[aria-busy="true"]').forEach(function (b) {
    b.disabled = false;
    b.removeAttribute("aria-busy");
  });
});

/* A button that fills a field (全部提现 fills the amount with the whole balance). */
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-fill]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-fill"));
  if (field) { field.value = button.getAttribute("data-value"); field.focus(); }
});

/* The address picker: 省 → 市 → 区 cascade from the bundled list, and paste-to-fill. */
(function () {
  var box = document.querySelector("[data-regions-url]");
  if (!box) return;
  var form = box.closest("form");
  var sel = function (name) { return form.querySelector('[data-region="' + name + '"]'); };
  var province = sel("province"), city = sel("city"), district = sel("district");
  var tree = null;
  var chooseText = province.options.length ? province.options[0].textContent : "";
  function fill(select, names, value) {
    select.innerHTML = "";
    var first = document.createElement("option");
    first.value = ""; first.textContent = chooseText; select.appendChild(first);
    names.forEach(function (n) {
      var o = document.createElement("option"); o.value = n; o.textContent = n; select.appendChild(o);
    });
    select.value = names.indexOf(value) >= 0 ? value : (names.length === 1 ? names[0] : "");
  }
  function cities() { return tree[province.value] || {}; }
  function onProvince(keepCity, keepDistrict) {
    fill(city, Object.keys(cities()), keepCity);
    onCity(keepDistrict);
  }
  function onCity(keepDistrict) { fill(district, cities()[city.value] || [], keepDistrict); }
  var ready = fetch(box.getAttribute("data-regions-url")).then(function (r) { return r.json(); })
    .then(function (data) {
      tree = data;
      var c = city.value, d = district.value;
      onProvince(c, d);
      province.addEventListener("change", function () { onProvince("", ""); });
      city.addEventListener("change", function () { onCity(""); });
      form.setAttribute("data-regions-ready", "true");
    });
  document.getElementById("paste-fill").addEventListener("click", function () {
    var text = document.getElementById("paste-address").value;
    var body = new URLSearchParams();
    body.append("text", text);
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch(box.getAttribute("data-parse-url"), {
      method: "POST", body: body, headers: { "X-CSRFToken": token }, credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (got) {
      return ready.then(function () { return got; });
    }).then(function (got) {
      ["name", "phone", "detail"].forEach(function (k) {
        var input = form.querySelector('[name="' + k + '"]');
        if (input && got[k]) input.value = got[k];
      });
      if (got.province) { province.value = got.province; onProvince(got.city, got.district); }
      form.setAttribute("data-filled", "true");
    });
  });
})();
