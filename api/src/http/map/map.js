// Signpost's map: area boundaries as the base layer, drawn in SVG with a local
// equirectangular projection; search results as markers and a list with reasons;
// gaps as shaded areas with a legend. Everything comes from this server.
"use strict";

const svg = document.getElementById("map");
const areasLayer = document.getElementById("areas");
const markersLayer = document.getElementById("markers");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const legend = document.getElementById("legend");
const NS = "http://www.w3.org/2000/svg";
const SHADES = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
const NO_DATA = "#cfd6de";

let projection = null; // { lat0, cos, scale } once something is drawn
let view = { x: 0, y: 0, w: 1000, h: 1000 };

async function gql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

function say(text) { statusLine.textContent = text; }

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// Projection: x = longitude × cos(latitude₀), y = −latitude, scaled to ~1000 units.
function fitTo(points) {
  if (!points.length) return;
  const lats = points.map((p) => p[1]);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const cos = Math.cos((lat0 * Math.PI) / 180);
  projection = { lat0, cos, scale: 1000 };
  const xy = points.map(project);
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const pad = 20;
  view = {
    x: Math.min(...xs) - pad, y: Math.min(...ys) - pad,
    w: Math.max(...xs) - Math.min(...xs) + 2 * pad || 100,
    h: Math.max(...ys) - Math.min(...ys) + 2 * pad || 100,
  };
  applyView();
}

// Keep the projection, move the view onto these points.
function zoomTo(points) {
  if (!projection) return fitTo(points);
  const xy = points.map(project);
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const w = Math.max(Math.max(...xs) - Math.min(...xs), 5);
  const h = Math.max(Math.max(...ys) - Math.min(...ys), 5);
  view = { x: Math.min(...xs) - w * 0.15, y: Math.min(...ys) - h * 0.15, w: w * 1.3, h: h * 1.3 };
  applyView();
}

function project([lon, lat]) {
  return [lon * projection.cos * projection.scale, -lat * projection.scale];
}

function applyView() {
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function pathOf(geometry) {
  return rings(geometry)
    .map((ring) => "M" + ring.map((p) => project(p).map((v) => v.toFixed(2)).join(",")).join("L") + "Z")
    .join("");
}

function drawAreas(features, shade) {
  areasLayer.replaceChildren();
  if (!projection) fitTo(features.flatMap((f) => rings(f.geometry).flat()));
  for (const f of features) {
    const p = f.properties;
    const path = el("path", { d: pathOf(f.geometry), class: "area", "data-code": p.code, "fill-rule": "evenodd" });
    if (shade) {
      path.classList.add("shaded");
      path.setAttribute("style", `fill:${shade(p)}`);
    }
    path.appendChild(el("title", {}, describeArea(p)));
    areasLayer.appendChild(path);
  }
}

function describeArea(p) {
  const lines = [`${p.name} (${p.code})`];
  if (p.population != null) lines.push(`${p.population.toLocaleString()} people`);
  lines.push(`${p.servicesInArea} services, ${p.availablePlaces} places free`);
  if (p.placesPer1000 != null) lines.push(`${p.placesPer1000.toFixed(1)} places per 1,000`);
  if (p.nearestServiceMetres != null) lines.push(`nearest ${(p.nearestServiceMetres / 1000).toFixed(1)} km`);
  if (p.searches) lines.push(`${p.searches} searches, ${p.unmetSearches} unmet`);
  return lines.join("\n");
}

async function loadGeojson(params) {
  const response = await fetch("/gaps.geojson?" + new URLSearchParams(params));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body.features;
}

async function start() {
  try {
    const data = await gql("{ taxonomyTerms { code name } areaTypes }");
    for (const select of document.querySelectorAll("select.terms")) {
      for (const t of data.taxonomyTerms) select.appendChild(new Option(t.name, t.code));
    }
    const types = document.getElementById("area-type");
    for (const t of data.areaTypes) types.appendChild(new Option(t, t));
    if (data.areaTypes.length) drawAreas(await loadGeojson({ areaType: data.areaTypes[0] }), null);
  } catch (e) {
    say(`Could not load the map: ${e.message}`);
  }
}

// Search: markers and a list with the reasons each service fits or not.
const SEARCH = `query($input: SearchInput!) { search(input: $input, first: 30) { edges { node {
  service { id name organization { name } }
  distanceMetres reach nearestLocation { latitude longitude }
  fit { suitable reasons { criterion outcome detail } } } } } }`;

document.getElementById("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const postcode = document.getElementById("postcode").value.trim();
  const term = document.getElementById("term").value;
  const age = document.getElementById("age").value;
  const input = { near: { postcode }, radiusMetres: Number(document.getElementById("radius").value), includeUnsuitable: true };
  if (term) input.taxonomyTerms = [term];
  if (age !== "") input.person = { age: Number(age) };
  say("Searching…");
  try {
    const [found, place] = await Promise.all([
      gql(SEARCH, { input }),
      gql("query($c: String!) { postcode(code: $c) { latitude longitude } }", { c: postcode }).catch(() => null),
    ]);
    showResults(found.search.edges.map((e) => e.node), place && place.postcode);
  } catch (e) {
    say(e.message);
    results.replaceChildren();
    markersLayer.replaceChildren();
  }
});

function showResults(matches, origin) {
  markersLayer.replaceChildren();
  results.replaceChildren();
  const located = matches.filter((m) => m.nearestLocation);
  // Show the results: zoom to them (the areas stay drawn in the same projection).
  const pts = located.map((m) => [m.nearestLocation.longitude, m.nearestLocation.latitude]);
  if (origin) pts.push([origin.longitude, origin.latitude]);
  if (pts.length) zoomTo(pts);
  if (projection && origin) {
    const [x, y] = project([origin.longitude, origin.latitude]);
    markersLayer.appendChild(el("circle", { cx: x, cy: y, r: view.w / 120, class: "origin" }));
  }
  matches.forEach((m, i) => {
    const li = document.createElement("li");
    li.className = m.fit.suitable ? "result suitable" : "result unsuitable";
    const title = document.createElement("strong");
    title.textContent = m.service.name;
    li.appendChild(title);
    const where = m.distanceMetres != null ? `${(m.distanceMetres / 1000).toFixed(1)} km` : m.reach === "REMOTE" ? "online or by phone" : "covers this area";
    li.appendChild(document.createTextNode(` — ${where}${m.fit.suitable ? "" : " (not suitable)"}`));
    const reasons = document.createElement("ul");
    reasons.className = "reasons";
    for (const r of m.fit.reasons) {
      const item = document.createElement("li");
      item.className = r.outcome;
      item.textContent = `${r.outcome.replace("_", " ").toLowerCase()}: ${r.detail}`;
      reasons.appendChild(item);
    }
    li.appendChild(reasons);
    results.appendChild(li);
    if (m.nearestLocation && projection) {
      const [x, y] = project([m.nearestLocation.longitude, m.nearestLocation.latitude]);
      const dot = el("circle", { cx: x, cy: y, r: view.w / 150, class: m.fit.suitable ? "marker" : "marker unsuitable" });
      dot.appendChild(el("title", {}, `${i + 1}. ${m.service.name}`));
      markersLayer.appendChild(dot);
    }
  });
  say(matches.length ? `${matches.length} services near ${document.getElementById("postcode").value.toUpperCase()}.` : "Nothing found within that distance.");
}

// Gaps: shade areas by the chosen measure, in five equal-count classes.
document.getElementById("gap-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const params = { areaType: document.getElementById("area-type").value };
  const term = document.getElementById("gap-term").value;
  const ageFrom = document.getElementById("age-from").value;
  if (term) params.taxonomyTerms = term;
  if (ageFrom !== "") params.ageFrom = ageFrom;
  const measure = document.getElementById("measure").value;
  say("Measuring gaps…");
  try {
    const features = await loadGeojson(params);
    const values = features.map((f) => f.properties[measure]).filter((v) => v != null).sort((a, b) => a - b);
    // Up to five equal-count classes; equal breaks (many zeros, say) merge.
    const breaks = [...new Set([1, 2, 3, 4].map((k) => values[Math.floor((k * values.length) / 5)] ?? 0))];
    const top = breaks.length;
    // Few places or a long way to go are the gaps: shade those darkest.
    const shade = (c) => {
      const k = top ? Math.round((c * 4) / top) : 0;
      return SHADES[measure === "placesPer1000" ? 4 - k : k];
    };
    const classOf = (v) => breaks.filter((b) => v > b).length;
    drawAreas(features, (p) => (p[measure] == null ? NO_DATA : shade(classOf(p[measure]))));
    markersLayer.replaceChildren();
    results.replaceChildren();
    drawLegend(measure, breaks, shade);
    const uncovered = features.filter((f) => !f.properties.covered).length;
    say(`${features.length} areas; ${uncovered} without a matching service within reach.`);
  } catch (e) {
    say(e.message);
  }
});

function drawLegend(measure, breaks, shade) {
  const unit = measure === "placesPer1000" ? (v) => v.toFixed(1) : (v) => `${(v / 1000).toFixed(1)} km`;
  const edges = [0, ...breaks];
  legend.replaceChildren();
  const heading = document.createElement("strong");
  heading.textContent = measure === "placesPer1000" ? "Places per 1,000 people" : "Distance to the nearest service";
  legend.appendChild(heading);
  edges.forEach((low, c) => {
    const row = document.createElement("div");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = shade(c);
    row.appendChild(swatch);
    const label = c < breaks.length ? `${unit(low)} – ${unit(edges[c + 1])}` : `over ${unit(low)}`;
    row.appendChild(document.createTextNode(c === 0 ? `up to ${unit(edges[1] ?? low)}` : label));
    legend.appendChild(row);
  });
  const none = document.createElement("div");
  none.innerHTML = `<span class="swatch" style="background:${NO_DATA}"></span>no data`;
  legend.appendChild(none);
  legend.hidden = false;
}

// Modes.
for (const [button, form] of [["mode-search", "search-form"], ["mode-gaps", "gap-form"]]) {
  document.getElementById(button).addEventListener("click", () => {
    for (const [b, f] of [["mode-search", "search-form"], ["mode-gaps", "gap-form"]]) {
      document.getElementById(b).setAttribute("aria-pressed", String(b === button));
      document.getElementById(f).hidden = f !== form;
    }
    legend.hidden = button !== "mode-gaps" || !legend.childElementCount;
  });
}

// Pan by dragging, zoom with the wheel around the pointer.
let drag = null;
svg.addEventListener("pointerdown", (e) => {
  drag = { x: e.clientX, y: e.clientY, view: { ...view } };
  svg.classList.add("dragging");
  svg.setPointerCapture(e.pointerId);
});
svg.addEventListener("pointermove", (e) => {
  if (!drag) return;
  const k = view.w / svg.clientWidth;
  view.x = drag.view.x - (e.clientX - drag.x) * k;
  view.y = drag.view.y - (e.clientY - drag.y) * k;
  applyView();
});
for (const end of ["pointerup", "pointercancel"]) {
  svg.addEventListener(end, () => { drag = null; svg.classList.remove("dragging"); });
}
svg.addEventListener("wheel", (e) => {
  e.preventDefault();
  const rect = svg.getBoundingClientRect();
  const fx = (e.clientX - rect.left) / rect.width;
  const fy = (e.clientY - rect.top) / rect.height;
  const factor = e.deltaY > 0 ? 1.2 : 1 / 1.2;
  const w = view.w * factor;
  const h = view.h * factor;
  view = { x: view.x + (view.w - w) * fx, y: view.y + (view.h - h) * fy, w, h };
  applyView();
}, { passive: false });

start();
