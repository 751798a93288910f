/* Draws the analytics charts from the page's JSON (ECharts, vendored). */
(function () {
  "use strict";
  var Q = window.QuanziCharts;
  Q.autoSubmit("analytics-filters");
  var data = Q.data("analytics-data");
  if (!data || !window.echarts) return;
  var chart = Q.chart;
  var n = data.names;
  chart("chart-gmv", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.gmv, n.visitors] },
    xAxis: { type: "category", data: data.days },
    yAxis: [{ type: "value", name: n.gmv }, { type: "value", name: n.visitors }],
    series: [
      { name: n.gmv, type: "line", data: data.gmv, smooth: true },
      { name: n.visitors, type: "bar", yAxisIndex: 1, data: data.visitors, itemStyle: { opacity: 0.4 } }
    ]
  });
  chart("chart-factors", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.conversion, n.aov] },
    xAxis: { type: "category", data: data.days },
    yAxis: [{ type: "value", name: n.conversion }, { type: "value", name: n.aov }],
    series: [
      { name: n.conversion, type: "line", data: data.conversion },
      { name: n.aov, type: "line", yAxisIndex: 1, data: data.aov }
    ]
  });
  chart("chart-contributions", {
    title: { text: n.change, textStyle: { fontSize: 13 } },
    tooltip: {},
    xAxis: { type: "category", data: data.factors },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: data.contributions }]
  });
  chart("chart-funnel", {
    tooltip: { trigger: "item" },
    series: [{ type: "funnel", sort: "none", data: data.funnel, label: { formatter: "{b}: {c}" } }]
  });
})();
