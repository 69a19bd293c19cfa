// amlocal studio: sorting, filtering and selecting runs; charts (uPlot); live status and logs.
// Everything from run history is put in the page as text (textContent), never as HTML.
(function () {
  "use strict";

  var STATUS_CLASSES = {
    Completed: "ok", Failed: "bad", Canceled: "muted", CancelRequested: "muted", Running: "live",
    Finalizing: "live", Starting: "live", Preparing: "live", Queued: "wait", NotStarted: "wait"
  };
  var PALETTE = ["#0b62d6", "#d6450b", "#1a7f37", "#8e44ad", "#b38600", "#00838f", "#c2185b", "#5d4037",
                 "#546e7a", "#7cb342"];
  var LIVE_POLL_MS = 2000;
  // Steps, indexes and rows are whole numbers: no 0.5 ticks on the x axis.
  var INTEGER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 25e3, 5e4, 1e5,
                       2e5, 25e4, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    seconds = Math.max(0, seconds);
    if (seconds < 60) return seconds.toFixed(1) + "s";
    var minutes = Math.floor(seconds / 60), secs = Math.floor(seconds % 60);
    if (minutes < 60) return minutes + "m " + (secs < 10 ? "0" : "") + secs + "s";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    return hours + "h " + (minutes < 10 ? "0" : "") + minutes + "m";
  }

  function setStatus(element, status) {
    if (!element) return;
    element.textContent = status;
    element.className = "status s-" + (STATUS_CLASSES[status] || "wait");
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok) return r.json().then(function (body) { throw new Error(body.error || r.statusText); });
      return r.json();
    });
  }

  // -- tables: sort on a header click ----------------------------------------------------------
  function initSortable(table) {
    $all("thead th[data-type]", table).forEach(function (th) {
      th.addEventListener("click", function () {
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var numeric = th.getAttribute("data-type") === "num";
        var ascending = !th.classList.contains("asc");
        $all("thead th", table).forEach(function (other) { other.classList.remove("asc", "desc"); });
        th.classList.add(ascending ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (row) {
          var cell = row.cells[index];
          var raw = cell ? (cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim()) : "";
          var key = raw;
          if (numeric) {
            key = parseFloat(raw);
            if (isNaN(key)) key = null;
          }
          return {row: row, key: key};
        });
        keyed.sort(function (a, b) {
          if (a.key === b.key) return 0;
          if (a.key === null || a.key === "" || a.key === "-") return 1;   // blanks last, either way
          if (b.key === null || b.key === "" || b.key === "-") return -1;
          var order = numeric ? a.key - b.key : String(a.key).localeCompare(String(b.key));
          return ascending ? order : -order;
        });
        var fragment = document.createDocumentFragment();
        keyed.forEach(function (item) { fragment.appendChild(item.row); });
        body.appendChild(fragment);
      });
    });
  }

  // -- the runs table: select runs to compare, follow live statuses ------------------------------
  // (Filtering, sorting and paging are links and forms: the server does them over all runs.)
  function initRunsTable(table) {
    var button = $("#compare-button"), pickAll = $("#pick-all"), statusFilter = $("#status-filter");
    function updateButton() {
      var picked = $all("tbody input[name=run]:checked", table).length;
      button.disabled = picked < 2;
      button.textContent = picked >= 2 ? "Compare " + picked + " runs" : "Compare selected";
    }
    table.addEventListener("change", function (event) {
      if (event.target.name === "run") updateButton();
    });
    if (pickAll) {
      pickAll.addEventListener("change", function () {
        $all("tbody input[name=run]", table).forEach(function (box) { box.checked = pickAll.checked; });
        updateButton();
      });
    }
    if (statusFilter) statusFilter.addEventListener("change", function () { statusFilter.form.submit(); });
    updateButton();
    followRunRows(table);
  }

  function followRunRows(table) {
    function poll() {
      var live = $all("tbody tr[data-live]", table);
      if (!live.length) return;
      var query = live.slice(0, 200).map(function (row) {
        return "run=" + encodeURIComponent(row.getAttribute("data-run-id"));
      }).join("&");
      getJSON("/api/runs/status?" + query).then(function (statuses) {
        live.forEach(function (row) {
          var state = statuses[row.getAttribute("data-run-id")];
          if (!state) return;
          setStatus($("[data-status]", row), state.status);
          var cell = $("[data-duration]", row);
          if (cell) { cell.textContent = duration(state.duration); cell.setAttribute("data-sort", state.duration || 0); }
          if (state.terminal) row.removeAttribute("data-live");
        });
      }).catch(function () {}).then(function () { setTimeout(poll, LIVE_POLL_MS); });
    }
    setTimeout(poll, LIVE_POLL_MS);
  }

  // -- charts ----------------------------------------------------------------------------------
  function chartWidth(element) { return Math.max(280, Math.floor(element.clientWidth || element.parentNode.clientWidth || 500)); }

  function note(element, text) {
    var p = document.createElement("p");
    p.className = "chart-note";
    p.textContent = text;
    element.appendChild(p);
  }

  function drawChart(element, xs, series, xLabel) {
    var data = [xs].concat(series.map(function (s) { return s.y; }));
    var options = {
      width: chartWidth(element), height: 220,
      scales: {x: {time: false}},
      axes: [{label: xLabel, labelSize: 20, size: 36, incrs: INTEGER_STEPS}, {size: 60}],
      cursor: {drag: {x: true, y: false}},
      legend: {live: true},
      series: [{label: xLabel}].concat(series.map(function (s, i) {
        var line = {label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true,
                    points: {show: xs.length <= 30}};
        // A sweep's chart: each child as a dot, the best so far as a step line.
        if (s.points) { line.paths = function () { return null; }; line.points = {show: true, size: 7}; }
        if (s.steps) { line.paths = uPlot.paths.stepped({align: 1}); line.width = 2; line.points = {show: false}; }
        return line;
      }))
    };
    var plot = new uPlot(options, data, element);
    var points = series.reduce(function (sum, s) { return sum + s.y.length; }, 0);
    element.setAttribute("data-points", String(points));
    element.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () { plot.setSize({width: chartWidth(element), height: 220}); });
    return plot;
  }

  function initChart(element) {
    var compare = element.classList.contains("compare-chart");
    getJSON(element.getAttribute("data-src")).then(function (answer) {
      if (typeof uPlot === "undefined") throw new Error("the charting library did not load");
      if (compare) {
        if (!answer.length) { note(element, "No run logged this metric."); return; }
        var joined = uPlot.join(answer.map(function (s) { return [s.x, s.y]; }));
        drawChart(element, joined[0], answer.map(function (s, i) { return {label: s.run_id, y: joined[i + 1]}; }),
                  answer[0].kind === "scalar" ? "step" : answer[0].kind === "list" ? "index" : "row");
        return;
      }
      if (!answer.series.length) { note(element, "Nothing numeric to chart."); return; }
      var xLabel = answer.x_label || (answer.kind === "scalar" ? "step" : answer.kind === "list" ? "index" : "row");
      drawChart(element, answer.x, answer.series, xLabel);
      if (answer.downsampled) {
        note(element, answer.count.toLocaleString() + " values, drawn as the minimum and maximum of each of " +
             "1,000 buckets (" + answer.x.length.toLocaleString() + " points): every spike stays visible.");
      }
    }).catch(function (error) {
      element.setAttribute("data-error", error.message);
      note(element, "Could not draw this chart: " + error.message);
    });
  }

  // -- logs: earlier pages, and the live tail while the run runs ----------------------------------
  function initLogView(view) {
    var runId = view.getAttribute("data-run-id"), name = view.getAttribute("data-log");
    var pre = $("#log", view), earlier = $(".earlier", view), state = $(".log-state", view);
    var base = "/api/runs/" + encodeURIComponent(runId) + "/log?name=" + encodeURIComponent(name);
    pre.scrollTop = pre.scrollHeight;  // the page opens on the log's end

    earlier.addEventListener("click", function () {
      var start = parseInt(view.getAttribute("data-start"), 10);
      getJSON(base + "&before=" + start).then(function (page) {
        var fromBottom = pre.scrollHeight - pre.scrollTop;  // keep the lines in view where they are
        pre.insertBefore(document.createTextNode(page.text), pre.firstChild);
        pre.scrollTop = pre.scrollHeight - fromBottom;
        view.setAttribute("data-start", String(page.start));
        earlier.hidden = page.start === 0;
      });
    });

    if (!view.hasAttribute("data-live")) return;
    var offset = parseInt(view.getAttribute("data-end"), 10) || 0;
    var source = new EventSource("/api/runs/" + encodeURIComponent(runId) + "/events?log=" +
                                 encodeURIComponent(name) + "&offset=" + offset);
    source.addEventListener("log", function (event) {
      var chunk = JSON.parse(event.data);
      var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(chunk.text));
      view.setAttribute("data-end", String(chunk.end));
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    });
    source.addEventListener("status", function (event) { showRunStatus(JSON.parse(event.data)); });
    source.addEventListener("end", function (event) {
      var end = JSON.parse(event.data);
      source.close();
      view.removeAttribute("data-live");
      state.textContent = "The run ended " + end.status + ". ";
      var again = document.createElement("a");
      again.href = window.location.pathname + window.location.search;
      again.textContent = "Show its final files";
      state.appendChild(again);
    });
  }

  function showRunStatus(state) {
    var head = $("#run");
    if (!head) return;
    $all("[data-status]", head).forEach(function (element) { setStatus(element, state.status); });
    $all("[data-duration]").forEach(function (element) { element.textContent = duration(state.duration); });
  }

  function followRunPage(head) {
    // Outside the logs tab: status and duration follow the run; at its end the page is
    // read again once, to show its final timeline, error, metrics and files.
    var runId = head.getAttribute("data-run-id");
    var source = new EventSource("/api/runs/" + encodeURIComponent(runId) + "/events");
    source.addEventListener("status", function (event) { showRunStatus(JSON.parse(event.data)); });
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }

  function init() {
    $all("table.sortable").forEach(initSortable);
    var runs = $("#runs");
    if (runs) initRunsTable(runs);
    ["#sweeps", "#sweep-children"].forEach(function (selector) {
      var table = $(selector);
      if (table) followRunRows(table);
    });
    $all(".chart[data-src]").forEach(initChart);
    var view = $("#logview");
    if (view) initLogView(view);
    var head = $("#run[data-live]");
    if (head && !(view && view.hasAttribute("data-live"))) followRunPage(head);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
