/* Circle health charts (ECharts, the copy the analytics app vendors) from the page's
   JSON; without ECharts the plain bars stay. */
(function () {
  "use strict";
  var source = document.getElementById("circle-health-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var n = data.names;
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    el.innerHTML = "";
    el.style.height = el.getAttribute("data-height") || "260px";
    el.classList.add("echarts-ready");
    var instance = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    instance.setOption(option, true);
    window.addEventListener("resize", function () { instance.resize(); });
  }
  chart("chart-members", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.members, n.active, n.joins, n.leaves] },
    grid: { left: 40, right: 40, bottom: 30 },
    xAxis: { type: "category", data: data.labels },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
    series: [
      { name: n.members, type: "line", data: data.members, smooth: true },
      { name: n.active, type: "line", data: data.active_7d, smooth: true, areaStyle: { opacity: 0.2 } },
      { name: n.joins, type: "bar", yAxisIndex: 1, data: data.joins, itemStyle: { opacity: 0.5 } },
      { name: n.leaves, type: "bar", yAxisIndex: 1, data: data.leaves, itemStyle: { opacity: 0.5 } }
    ]
  });
  chart("chart-retention", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { type: "scroll", data: data.cohorts.map(function (c) { return c.name; }) },
    grid: { left: 40, right: 20, bottom: 30 },
    xAxis: { type: "category", data: data.weeks },
    yAxis: { type: "value", name: n.retention, max: 100 },
    series: data.cohorts.map(function (c) { return { name: c.name, type: "line", data: c.share }; })
  });
  chart("chart-sales", {
    tooltip: { trigger: "axis" },
    legend: { data: [n.gmv, n.orders] },
    grid: { left: 50, right: 40, bottom: 30 },
    xAxis: { type: "category", data: data.labels },
    yAxis: [{ type: "value", name: n.gmv }, { type: "value", minInterval: 1 }],
    series: [
      { name: n.gmv, type: "bar", data: data.gmv_yuan },
      { name: n.orders, type: "line", yAxisIndex: 1, data: data.orders }
    ]
  });
})();
