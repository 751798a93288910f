/* Draws the analytics charts from the page's JSON (ECharts, vendored). */
(function () {
  "use strict";
  var source = document.getElementById("analytics-data");
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
  var form = document.getElementById("analytics-filters");
  if (form) {
    form.addEventListener("change", function () { form.submit(); });
  }
})();
