// The events page: a histogram drawn with uPlot (clicking a bar narrows the range to it) and
// the JSON of the row clicked. Everything it shows is already in the page.
"use strict";

function drawHistogram() {
  const holder = document.getElementById("histogram");
  const data = document.getElementById("histogram-data");
  if (!holder || !data) return;
  const histogram = JSON.parse(data.textContent);
  const kinds = Object.keys(histogram);
  if (kinds.length === 0) return;
  const times = histogram[kinds[0]].map((point) => point[0]);
  const series = kinds.map((kind) => histogram[kind].map((point) => point[1]));
  const colours = { good: "#2a8f5a", bad: "#c0392b" };
  // Side by side: good to the left of each time, bad to the right.
  const bars = { good: uPlot.paths.bars({ size: [0.45, 20], align: -1 }), bad: uPlot.paths.bars({ size: [0.45, 20], align: 1 }) };
  const plot = new uPlot(
    {
      width: holder.clientWidth || 900,
      height: 180,
      series: [{}, ...kinds.map((kind) => ({ label: kind, stroke: colours[kind], fill: colours[kind], paths: bars[kind], points: { show: false } }))],
      axes: [{}, { size: 50 }],
    },
    [times, ...series],
    holder,
  );
  const seconds = { m: 60, h: 3600, d: 86400 };
  const width = holder.dataset.width;
  const span = parseInt(width, 10) * seconds[width.slice(-1)];
  plot.over.addEventListener("click", () => {
    const index = plot.cursor.idx;
    if (index === null || index === undefined) return;
    const params = new URLSearchParams(window.location.search);
    params.delete("last");
    params.set("from", new Date(times[index] * 1000).toISOString());
    params.set("to", new Date((times[index] + span) * 1000).toISOString());
    window.location.search = params.toString();
  });
}

function showRows() {
  const table = document.getElementById("events");
  const data = document.getElementById("rows-data");
  const panel = document.getElementById("json-panel");
  if (!table || !data || !panel) return;
  const sources = JSON.parse(data.textContent);
  table.querySelectorAll("tbody tr[data-index]").forEach((row) => {
    row.addEventListener("click", () => {
      table.querySelectorAll("tr.selected").forEach((other) => other.classList.remove("selected"));
      row.classList.add("selected");
      panel.textContent = JSON.stringify(sources[Number(row.dataset.index)], null, 2);
    });
  });
}

function leaveEmptyFiltersOut() {
  const form = document.getElementById("filters");
  if (!form) return;
  form.addEventListener("submit", () => {
    form.querySelectorAll("input, select").forEach((field) => {
      if (!field.value) field.disabled = true;
    });
  });
}

// A bad-row group's rows over the range, as a small line without axes.
function drawSparklines() {
  document.querySelectorAll(".sparkline").forEach((holder) => {
    const counts = JSON.parse(holder.dataset.counts);
    const xs = counts.map((_, index) => index);
    new uPlot(
      {
        width: 160,
        height: 36,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: "#c0392b", fill: "rgba(192, 57, 43, 0.2)", points: { show: false } }],
      },
      [xs, counts],
      holder,
    );
  });
}

drawHistogram();
drawSparklines();
showRows();
leaveEmptyFiltersOut();

// The live tail: rows arrive as server-sent events, newest on top; while paused they wait.
function liveTail() {
  const table = document.getElementById("tail");
  if (!table) return;
  const body = table.querySelector("tbody");
  const state = document.getElementById("tail-state");
  const pause = document.getElementById("pause");
  const waiting = [];
  let paused = false;
  const show = (row) => {
    const line = document.createElement("tr");
    line.className = row.kind;
    line.dataset.eventId = row.event_id || "";
    for (const value of [row.time, row.kind, row.what, row.schema, row.app_id, row.event_id]) {
      const cell = document.createElement("td");
      cell.textContent = value ?? "";
      line.appendChild(cell);
    }
    body.prepend(line);
    while (body.rows.length > 500) body.deleteRow(-1);
  };
  const stream = new EventSource(`${document.body.dataset.base}/api/tail${window.location.search}`);
  stream.onopen = () => { state.textContent = "live"; };
  stream.onerror = () => { state.textContent = "reconnecting"; };
  stream.onmessage = (message) => {
    const row = JSON.parse(message.data);
    if (paused) waiting.push(row);
    else show(row);
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    state.textContent = paused ? "paused" : "live";
    if (!paused) waiting.splice(0).forEach(show);
  });
}

liveTail();
