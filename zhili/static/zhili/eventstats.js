// Charts of the statistics page (data embedded by the server).
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  if (!window.echarts) { return; }
  var trend = echarts.init(document.getElementById("chart-trend"));
  trend.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    xAxis: { type: "category", data: data.months },
    yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
    series: [
      { name: data.labels.reported, type: "bar", data: data.reported },
      { name: data.labels.closed, type: "bar", data: data.closed },
      { name: data.labels.on_time, type: "line", yAxisIndex: 1, data: data.on_time }
    ]
  });
  var cats = echarts.init(document.getElementById("chart-category"));
  cats.setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "70%"], data: data.categories }] });
  window.addEventListener("resize", function () { trend.resize(); cats.resize(); });
})();
