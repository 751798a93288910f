/* Draws the breakdown charts from the page's JSON (ECharts, vendored): members' share
   of GMV by day, GMV by province, level and new / returning buyers, supplier refund and
   complaint rates, note conversion, share K-factor and tree depth. */
(function () {
  "use strict";
  var Q = window.QuanziCharts;
  Q.autoSubmit("analytics-filters");
  var data = Q.data("breakdowns-data");
  if (!data || !window.echarts) return;
  var chart = Q.chart;
  var n = data.names;
  var t = data.titles;
  function title(text) { return { text: text, textStyle: { fontSize: 13 } }; }
  chart("chart-members", {
    title: title(t.members),
    tooltip: { trigger: "axis" },
    legend: { data: [n.member_gmv, n.other_gmv, n.member_share], bottom: 0 },
    grid: { top: 40, bottom: 70 },
    xAxis: { type: "category", data: data.days },
    yAxis: [{ type: "value" }, { type: "value", max: 100, name: "%" }],
    series: [
      { name: n.member_gmv, type: "bar", stack: "gmv", data: data.member_gmv },
      { name: n.other_gmv, type: "bar", stack: "gmv", data: data.other_gmv },
      { name: n.member_share, type: "line", yAxisIndex: 1, data: data.member_share }
    ]
  });
  function pie(id, text, rows) {
    chart(id, {
      title: title(text),
      tooltip: { trigger: "item", formatter: "{b}: ¥{c} ({d}%)" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: rows }]
    });
  }
  pie("chart-regions", t.regions, data.regions);
  pie("chart-levels", t.levels, data.levels);
  pie("chart-buyer-types", t.buyers, data.buyer_types);
  chart("chart-suppliers", {
    title: title(t.suppliers),
    tooltip: { trigger: "axis" },
    legend: { data: [n.refund_rate, n.complaint_rate], bottom: 0 },
    grid: { top: 40, bottom: 70 },
    xAxis: { type: "category", data: data.suppliers },
    yAxis: { type: "value" },
    series: [
      { name: n.refund_rate, type: "bar", data: data.refund_rate },
      { name: n.complaint_rate, type: "bar", data: data.complaint_rate }
    ]
  });
  chart("chart-notes", {
    title: title(t.notes),
    tooltip: { trigger: "axis" },
    legend: { data: [n.note_conversion], bottom: 0 },
    grid: { top: 40, bottom: 70 },
    xAxis: { type: "category", data: data.notes },
    yAxis: { type: "value" },
    series: [{ name: n.note_conversion, type: "bar", data: data.note_conversion }]
  });
  chart("chart-shares", {
    title: title(t.shares),
    tooltip: { trigger: "axis" },
    legend: { data: [n.k_factor, n.tree_depth], bottom: 0 },
    grid: { top: 40, bottom: 70 },
    xAxis: { type: "category", data: data.campaigns },
    yAxis: [{ type: "value", name: n.k_factor }, { type: "value", name: n.tree_depth, minInterval: 1 }],
    series: [
      { name: n.k_factor, type: "bar", data: data.k_factor },
      { name: n.tree_depth, type: "line", yAxisIndex: 1, data: data.tree_depth }
    ]
  });
})();
