/* sikker web site: small progressive enhancements, no dependencies.
 * - the export tool asks /export/preview as filters change and redraws the
 *   count, the histogram, the API URL, the cron line and the download link;
 * - "+ CN" chips add a value to a comma-separated field;
 * - "Copy" buttons copy a read-only field.
 * Every page works without this script. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function num(n) { return Number(n).toLocaleString("en-US"); }

  /* The same markup and geometry as server/web/charts.py histogram() and
   * the histogram macro of templates/macros.html. */
  function drawHistogram(list, buckets, threshold) {
    var top = Math.max.apply(null, buckets.map(function (b) { return b.count; }));
    while (list.firstChild) list.removeChild(list.firstChild);
    buckets.forEach(function (b) {
      var h = top ? Math.round(10000 * b.count / top) / 100 : 0;
      var item = document.createElement("li");
      var value = document.createElement("span");
      var label = document.createElement("span");
      var hidden = document.createElement("span");
      var svg = el("svg", { viewBox: "0 0 10 100", preserveAspectRatio: "none",
                            "aria-hidden": "true", focusable: "false" });
      item.className = b.to >= threshold ? "in" : "out";
      value.className = "h-value";
      value.textContent = num(b.count);
      hidden.className = "sr-only";
      hidden.textContent = " IPs scoring";
      value.appendChild(hidden);
      svg.appendChild(el("rect", { "class": "bar", x: 0, y: 100 - h, width: 10, height: h }));
      label.className = "h-label";
      label.textContent = b.from + "-" + b.to;
      item.appendChild(value);
      item.appendChild(svg);
      item.appendChild(label);
      list.appendChild(item);
    });
  }

  function formQuery(form) {
    var data = new FormData(form), out = new URLSearchParams(), protocols = [];
    data.forEach(function (value, name) {
      value = String(value).trim();
      if (name === "protocols") protocols.push(value);
      else if (value !== "" && !(name === "ipVersion" && value === "mixed")) out.set(name, value);
    });
    if (protocols.length) out.set("protocols", protocols.join(","));
    return out;
  }

  function initExport(form) {
    var count = document.getElementById("count");
    var detail = document.getElementById("count-detail");
    var svg = document.querySelector("[data-histogram]");
    var api = document.getElementById("api-url");
    var cron = document.getElementById("cron");
    var download = document.getElementById("download");
    var score = document.getElementById("scoreMinimum");
    var shown = document.getElementById("scoreValue");
    var status = document.getElementById("copy-status");
    var timer = null, asked = 0;

    function show(body) {
      var base = window.location.origin;
      count.textContent = num(body.count);
      document.querySelectorAll("[data-count]").forEach(function (node) {
        node.textContent = num(body.count);
      });
      detail.textContent = num(body.matching) + " of " + num(body.listed) +
        " listed IPs match (snapshot #" + body.sequence + ").";
      drawHistogram(svg, body.buckets, body.scoreMinimum);
      api.value = base + body.apiPath;
      cron.value = "17 * * * * curl -fsS -H 'Authorization: Bearer YOUR_KEY' " +
        "-o /var/lib/sikker/blacklist.txt '" + base + body.apiPath + "'";
      download.href = "/export/download?" + body.apiPath.split("?")[1];
      download.textContent = "Download " + body.format;
    }

    function update() {
      var mine = ++asked;
      shown.textContent = score.value;
      fetch("/export/preview?" + formQuery(form).toString(), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (resp) {
        return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
      }).then(function (answer) {
        if (mine !== asked) return;  /* a newer answer is on its way */
        if (answer.ok) { show(answer.body); status.textContent = ""; }
        else { status.textContent = answer.body.error || "the preview failed"; }
      }).catch(function () {
        if (mine === asked) status.textContent = "the preview is not available right now";
      });
    }

    function soon() {
      shown.textContent = score.value;
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 200);
    }

    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    document.querySelectorAll("[data-add]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-add"));
        var value = button.getAttribute("data-value");
        var items = field.value.split(",").map(function (s) { return s.trim(); })
          .filter(function (s) { return s; });
        if (items.indexOf(value) < 0) items.push(value);
        field.value = items.join(",");
        soon();
      });
    });
  }

  function initCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        var status = document.getElementById("copy-status");
        function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select the text and copy it."; }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
        } else {
          field.select();
          done(document.execCommand && document.execCommand("copy"));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-export]");
    if (form) initExport(form);
    initCopy();
  });
}());
