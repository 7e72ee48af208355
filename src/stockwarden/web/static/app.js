// stockwarden web app: render ECharts from JSON embedded in the page; no data is fetched from elsewhere.
(function () {
  "use strict";
  function renderCharts(root) {
    if (!window.echarts) { return; }
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.rendered) { return; }
      var spec = document.getElementById(el.dataset.chart);
      if (!spec) { return; }
      var option = JSON.parse(spec.textContent);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      if (option.__clickHref) {
        var base = option.__clickHref; delete option.__clickHref;
        chart.on("click", function (p) {
          var d = p.data || {};
          if (d.href) { window.location.href = d.href; }
          else if (base) { window.location.href = base.replace("{name}", encodeURIComponent(p.name)); }
        });
      }
      chart.setOption(option);
      el.dataset.rendered = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
  document.addEventListener("htmx:afterSwap", function (e) { renderCharts(e.target); });
  // A visible loading state on every form post and link that takes a while.
  window.addEventListener("beforeunload", function () { document.body.classList.add("is-loading"); });
  document.addEventListener("submit", function (e) {
    // the button pressed (a form with several: only the one that was used says it is busy)
    var b = e.submitter ? (e.submitter.matches("[data-busy]") ? e.submitter : null)
                        : e.target.querySelector("button[type=submit][data-busy]");
    if (b) { b.setAttribute("aria-busy", "true"); b.textContent = b.dataset.busy; }
  });
  // A field that selects its whole text when focused (a token shown once, to copy).
  document.addEventListener("focusin", function (e) {
    if (e.target.matches("input[data-select-on-focus]")) { e.target.select(); }
  });
  // A select that submits its form when changed (the language switch).
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) { e.target.form.requestSubmit(); }
  });
  window.addEventListener("pageshow", function () { document.body.classList.remove("is-loading"); });
  // Groups folded on a phone are opened on a wide screen; a link to #po-X opens what holds it.
  function openTarget() {
    var el = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    for (; el; el = el.parentElement) { if (el.tagName === "DETAILS") { el.open = true; } }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia("(min-width: 761px)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
    openTarget();
    updateApproveBar();
  });
  window.addEventListener("hashchange", openTarget);
  // The approve bar: how many POs are ticked and their value.
  function updateApproveBar() {
    var out = document.getElementById("approve-count");
    if (!out) { return; }
    var picked = document.querySelectorAll("input.po-pick:checked");
    var total = 0;
    picked.forEach(function (c) { total += parseFloat(c.dataset.value) || 0; });
    var fmt = new Intl.NumberFormat(out.dataset.locale || undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    out.textContent = picked.length
      ? out.dataset.some.replace("%(n)s", String(picked.length)).replace("%(v)s", fmt.format(total))
      : out.dataset.none;
    var button = document.getElementById("approve-selected-button");
    if (button) { button.disabled = picked.length === 0; }
  }
  document.addEventListener("change", function (e) { if (e.target.matches("input.po-pick")) { updateApproveBar(); } });
  // Select-all checkbox for bulk actions.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll("input[name='" + t.dataset.selectAll + "']").forEach(function (c) { c.checked = t.checked; });
    }
  });
})();
