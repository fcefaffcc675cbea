// The ovis4j page: submits jobs to /v1/jobs, follows each through its event stream, and shows the
// queue and the results. Only this server is contacted (the page's Content-Security-Policy says so).
"use strict";

const $ = (id) => document.getElementById(id);
const shown = new Set();          // job ids already in the gallery
let keyRequired = false;

function headers(json) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  const key = $("key").value || localStorage.getItem("ovis4j-key") || "";
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: headers(options.body !== undefined) });
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.status + " " + res.statusText;
    throw new Error(msg);
  }
  return body;
}

async function health() {
  try {
    const res = await fetch("/health");
    const h = await res.json();
    $("model").textContent = h.model;
    const badge = $("health");
    badge.textContent = h.status + " · queue " + h.queue.length + "/" + h.queue.capacity;
    badge.className = "badge " + (h.status === "ok" ? "ok" : "bad");
    return h;
  } catch (e) {
    $("health").textContent = "unreachable";
    $("health").className = "badge bad";
    return null;
  }
}

function fillLimits(limits) {
  const size = $("size");
  if (size.options.length > 0) return;
  const sides = [64, 128, 256, 512, 768, 1024, 1536, 2048];
  for (const s of sides) {
    if (s > limits.max_width || s > limits.max_height) continue;
    const o = document.createElement("option");
    o.value = s + "x" + s;
    o.textContent = s + " × " + s;
    size.appendChild(o);
  }
  size.value = limits.default_size;
  if (!size.value && size.options.length) size.selectedIndex = size.options.length - 1;
  $("steps").max = limits.max_steps;
  if (Number($("steps").value) > limits.max_steps) $("steps").value = limits.max_steps;
}

function setProgress(fraction, text) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  const bar = $("progress");
  $("progress-fill").style.width = pct + "%";
  bar.setAttribute("aria-valuenow", String(pct));
  const history = bar.dataset.history ? bar.dataset.history.split(",") : [];
  if (history[history.length - 1] !== String(pct)) history.push(String(pct));
  bar.dataset.history = history.join(",");
  $("progress-text").textContent = text || "";
}

function describe(req) {
  return req.width + "×" + req.height + " · " + req.steps + " steps · guidance " + req.guidance + " · seed " + req.seed;
}

// Server-Sent Events read through fetch (EventSource cannot send the Authorization header).
async function follow(job) {
  $("current").textContent = "Job " + job.id + " — " + job.request.prompt;
  $("progress").dataset.history = "";
  setProgress(0, job.status === "queued" ? "queued, position " + job.position : job.status);
  const res = await fetch("/v1/jobs/" + job.id + "/events", { headers: headers(false) });
  if (!res.ok) throw new Error("events: " + res.status);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", last = job;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (!data) continue;
      const payload = JSON.parse(data);
      if (event === "progress") {
        const done = (payload.image - 1) * payload.steps + payload.step;
        const eta = payload.eta_seconds == null ? "" : " · eta " + payload.eta_seconds.toFixed(1) + " s";
        setProgress(done / (payload.images * payload.steps),
          "image " + payload.image + "/" + payload.images + " · step " + payload.step + "/" + payload.steps + eta);
      } else if (event === "status") {
        last = payload;
        if (payload.status === "queued") setProgress(0, "queued, position " + payload.position);
        else setProgress(0, payload.status);
      } else {
        last = payload;
        if (event === "completed") setProgress(1, "completed");
        else setProgress(0, event + (payload.error ? ": " + payload.error.message : ""));
      }
    }
  }
  if (last.status === "completed") addToGallery(last, true);
  refreshQueue();
  return last;
}

async function addToGallery(job, first) {
  if (shown.has(job.id) || !job.images) return;
  shown.add(job.id);
  for (const image of job.images) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.job = job.id;
    const img = document.createElement("img");
    img.alt = job.request.prompt;
    const meta = document.createElement("div");
    meta.className = "meta";
    const p = document.createElement("p");
    p.textContent = job.request.prompt;
    const params = document.createElement("p");
    params.className = "muted";
    params.textContent = describe(job.request);
    const link = document.createElement("a");
    link.textContent = "Download PNG";
    link.download = image.id + ".png";
    meta.append(p, params, link);
    card.append(img, meta);
    const gallery = $("gallery");
    if (first) gallery.prepend(card); else gallery.append(card);
    try {
      const res = await fetch("/v1/images/" + image.id + ".png", { headers: headers(false) });
      const url = URL.createObjectURL(await res.blob());
      img.src = url;
      link.href = url;
    } catch (e) {
      params.textContent += " (image not loaded: " + e.message + ")";
    }
  }
}

async function refreshQueue() {
  let jobs;
  try { jobs = (await api("/v1/jobs?limit=100")).data; } catch (e) { return; }
  const queue = $("queue");
  queue.replaceChildren();
  const active = jobs.filter((j) => j.status === "queued" || j.status === "running").reverse();
  for (const j of active) {
    const li = document.createElement("li");
    li.textContent = (j.status === "running" ? "▶ " : "") + j.request.prompt.slice(0, 60) + " — " + j.status
      + (j.position ? " (#" + j.position + ")" : "") + (j.progress ? " " + j.progress.step + "/" + j.progress.steps : "");
    queue.appendChild(li);
  }
  if (!active.length) queue.innerHTML = "<li class='muted'>empty</li>";
  for (const j of jobs) if (j.status === "completed") addToGallery(j, false);
}

$("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("error").textContent = "";
  if ($("key").value) localStorage.setItem("ovis4j-key", $("key").value);
  const body = {
    prompt: $("prompt").value,
    negative_prompt: $("negative").value,
    size: $("size").value,
    steps: Number($("steps").value),
    guidance: Number($("guidance").value),
  };
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  $("generate").disabled = true;
  try {
    const job = await api("/v1/jobs", { method: "POST", body: JSON.stringify(body) });
    refreshQueue();
    await follow(job);
  } catch (e) {
    $("error").textContent = e.message;
  } finally {
    $("generate").disabled = false;
  }
});

(async function init() {
  $("key").value = localStorage.getItem("ovis4j-key") || "";
  const h = await health();
  if (h) {
    fillLimits(h.limits);
    keyRequired = h.api_key_required;
    $("key-row").classList.toggle("hidden", !keyRequired);
  }
  refreshQueue();
  setInterval(health, 5000);
  setInterval(refreshQueue, 3000);
})();
