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
  // Select-all checkbox for bulk actions.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll("input[name='" + t.dataset.selectAll + "']").forEach(function (c) { c.checked = t.checked; });
    }
  });
})();
