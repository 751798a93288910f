/* Draws the group-buy and bargain charts from the page's JSON (ECharts, vendored). */
(function () {
  "use strict";
  var Q = window.QuanziCharts;
  Q.autoSubmit("analytics-filters");
  var data = Q.data("mechanics-data");
  if (!data || !window.echarts) return;
  var chart = Q.chart;
  var n = data.names;
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
})();
