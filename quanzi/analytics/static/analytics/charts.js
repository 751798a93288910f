/* The analytics pages' one chart helper (ECharts, vendored): draw a chart into an
   element from an option, keep it sized with the window, read a page's JSON data, and
   apply the filters as soon as one changes. Loaded before each page's own script. */
(function () {
  "use strict";
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var instance = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    instance.setOption(option, true);
    window.addEventListener("resize", function () { instance.resize(); });
    return instance;
  }
  function data(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }
  function autoSubmit(formId) {
    var form = document.getElementById(formId || "analytics-filters");
    if (form) form.addEventListener("change", function () { form.submit(); });
  }
  window.QuanziCharts = { chart: chart, data: data, autoSubmit: autoSubmit };
})();
