// The leadership dashboard's charts (Apache ECharts, served by the application). Every bar and
// point opens the list behind it; the same figures are in the tables under each chart.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-charts").textContent);
  var palette = ["#1d4f91", "#2f7dd1", "#5aa0e6", "#e0a800", "#d93025", "#1e8e3e", "#7b5ea7", "#6c7a91"];
  var charts = [];
  var printing = window.matchMedia && window.matchMedia("print").matches;

  // The tooltip as DOM nodes, not markup: ECharts' own tooltip markup carries style
  // attributes, which the Content-Security-Policy refuses.
  function tooltip(params) {
    var points = Array.isArray(params) ? params : [params];
    var box = document.createElement("div");
    var title = document.createElement("div");
    title.className = "chart-tip-title";
    title.textContent = points.length ? points[0].name : "";
    box.appendChild(title);
    points.forEach(function (point) {
      var row = document.createElement("div");
      var dot = document.createElement("span");
      dot.className = "chart-tip-dot";
      dot.style.backgroundColor = point.color;
      var value = document.createElement("strong");
      value.className = "chart-tip-value";
      value.textContent = point.value;
      row.appendChild(dot);
      if (point.seriesName && points.length > 1) {
        row.appendChild(document.createTextNode(point.seriesName));
      }
      row.appendChild(value);
      box.appendChild(row);
    });
    return box;
  }

  function option(spec, type) {
    var horizontal = type === "hbar";
    var many = !horizontal && spec.labels.length > 6;
    var category = { type: "category", data: spec.labels, axisLabel: { interval: horizontal ? 0 : "auto", rotate: many ? 45 : 0, fontSize: 11, width: horizontal ? 96 : 60, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1, axisLabel: { fontSize: 11 } };
    return {
      color: palette,
      animation: !printing,
      grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign(category, { inverse: true }) : value,
      series: [{
        type: type === "line" ? "line" : "bar",
        data: spec.values,
        smooth: false,
        barMaxWidth: 28,
        label: { show: type !== "line", position: horizontal ? "right" : "top", fontSize: 11 },
        areaStyle: type === "line" ? { opacity: 0.12 } : undefined,
        cursor: "pointer"
      }]
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = data[element.getAttribute("data-chart")];
    if (!spec || !window.echarts) { return; }
    var type = element.getAttribute("data-type");
    var rows = spec.labels.length;
    element.style.height = (type === "hbar" ? Math.max(160, rows * 28 + 40) : 220) + "px";
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(spec, type));
    chart.on("click", function (params) {
      var url = spec.urls[params.dataIndex];
      if (url) { window.location.href = url; }
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });

  // A preset replaces the dates; typing a date makes the period custom.
  var form = document.getElementById("dashboard-filters");
  if (form) {
    form.querySelectorAll("input[name=preset]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        form.querySelector("#since").value = "";
        form.querySelector("#until").value = "";
        form.requestSubmit();
      });
    });
    form.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () {
        form.querySelectorAll("input[name=preset]").forEach(function (r) { r.checked = false; });
      });
    });
    form.querySelector("#district").addEventListener("change", function () { form.requestSubmit(); });
  }
})();
