/* Draws the group-buy and bargain charts from the page's JSON (ECharts, vendored). */
(function () {
  "use strict";
  var source = document.getElementById("mechanics-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var n = data.names;
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var instance = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    instance.setOption(option, true);
    window.addEventListener("resize", function () { instance.resize(); });
  }
  chart("chart-mechanic-rates", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.group_rate, n.bargain_rate] },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", max: 100 },
    series: [
      { name: n.group_rate, type: "line", data: data.group_rate },
      { name: n.bargain_rate, type: "line", data: data.bargain_rate }
    ]
  });
  chart("chart-mechanic-effort", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.fill, n.helpers] },
    xAxis: { type: "category", data: data.days },
    yAxis: [{ type: "value", name: n.fill }, { type: "value", name: n.helpers }],
    series: [
      { name: n.fill, type: "bar", data: data.fill },
      { name: n.helpers, type: "line", yAxisIndex: 1, data: data.helpers }
    ]
  });
  var form = document.getElementById("analytics-filters");
  if (form) form.addEventListener("change", function () { form.submit(); });
})();
