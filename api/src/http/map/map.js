// Signpost's map: area boundaries as the base layer, drawn in SVG with a local
// equirectangular projection; pan and zoom by pointer, buttons or keys; an area's
// name and figures on hover, or under the cross when the map has keyboard focus.
// The search results and gaps (views.js) draw on it. Everything comes from this server.
"use strict";

const $ = (id) => document.getElementById(id);
const svg = $("map");
const areasLayer = $("areas");
const markersLayer = $("markers");
const info = $("area-info");
const NS = "http://www.w3.org/2000/svg";

let projection = null; // { cos, scale } once something is drawn
let view = { x: 0, y: 0, w: 1000, h: 1000 };
// The areas drawn now, by code: their properties and, in the gap view, their class.
let drawn = new Map();
let describe = (p) => `${p.name} (${p.code})`;

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

async function loadGeojson(params) {
  const response = await fetch("/gaps.geojson?" + new URLSearchParams(params));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body.features;
}

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// Projection: x = longitude × cos(latitude₀), y = −latitude, scaled to ~1000 units.
function project([lon, lat]) {
  return [lon * projection.cos * projection.scale, -lat * projection.scale];
}

// Move the view onto these points (choosing the projection the first time).
function zoomTo(points, margin) {
  if (!points.length) return;
  if (!projection) {
    const lats = points.map((p) => p[1]);
    const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
    projection = { cos: Math.cos((lat0 * Math.PI) / 180), scale: 1000 };
  }
  const xy = points.map(project);
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const w = Math.max(Math.max(...xs) - Math.min(...xs), 5);
  const h = Math.max(Math.max(...ys) - Math.min(...ys), 5);
  view = { x: Math.min(...xs) - w * margin, y: Math.min(...ys) - h * margin, w: w * (1 + 2 * margin), h: h * (1 + 2 * margin) };
  applyView();
}

function applyView() {
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
}

// Zoom by a factor around a point given as fractions of the map's width and height.
function zoomBy(factor, fx = 0.5, fy = 0.5) {
  const w = view.w * factor;
  const h = view.h * factor;
  view = { x: view.x + (view.w - w) * fx, y: view.y + (view.h - h) * fy, w, h };
  applyView();
}

function panBy(fx, fy) {
  view.x += view.w * fx;
  view.y += view.h * fy;
  applyView();
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

// Draw areas; `classOf` (gap view) gives each its legend class { label, shade }.
function drawAreas(features, classOf, describeWith) {
  areasLayer.replaceChildren();
  drawn = new Map();
  describe = describeWith;
  if (!projection) zoomTo(features.flatMap((f) => rings(f.geometry).flat()), 0.02);
  for (const f of features) {
    const p = f.properties;
    const cls = classOf ? classOf(p) : null;
    const path = el("path", { d: pathOf(f.geometry), class: cls ? "area shaded" : "area", "data-code": p.code, "fill-rule": "evenodd" });
    if (cls) path.style.fill = cls.shade;
    areasLayer.appendChild(path);
    drawn.set(p.code, { p, cls, path, geometry: f.geometry });
  }
  info.textContent = "";
}

// Show one area's name and figures, outlined on the map and marked in the table.
function showArea(code) {
  for (const old of document.querySelectorAll(".area.hl, #area-table tr.hl")) old.classList.remove("hl");
  const area = drawn.get(code);
  if (!area) {
    info.textContent = code === undefined ? "" : "No area here.";
    return;
  }
  area.path.classList.add("hl");
  const row = document.querySelector(`#area-table tr[data-code="${CSS.escape(code)}"]`);
  if (row) row.classList.add("hl");
  info.textContent = describe(area.p, area.cls);
}

function areaAtCentre() {
  const r = svg.getBoundingClientRect();
  const hit = document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2).find((e) => e.classList.contains("area"));
  showArea(hit ? hit.dataset.code : null);
}

function focusArea(code) {
  const area = drawn.get(code);
  if (area) zoomTo(rings(area.geometry).flat(), 1.5);
  showArea(code);
}

// Keys, and the buttons that stand for them (for pointers that cannot drag).
const MOVES = {
  ArrowLeft: () => panBy(-0.1, 0), ArrowRight: () => panBy(0.1, 0),
  ArrowUp: () => panBy(0, -0.1), ArrowDown: () => panBy(0, 0.1),
  "+": () => zoomBy(1 / 1.25), "=": () => zoomBy(1 / 1.25),
  "-": () => zoomBy(1.25), _: () => zoomBy(1.25),
};
svg.addEventListener("keydown", (e) => {
  const move = MOVES[e.key];
  if (!move || e.altKey || e.ctrlKey || e.metaKey) return;
  e.preventDefault();
  move();
  if (document.activeElement === svg) areaAtCentre();
});
svg.addEventListener("focus", () => { if (svg.matches(":focus-visible")) areaAtCentre(); });
for (const button of document.querySelectorAll(".controls button")) {
  button.addEventListener("click", () => MOVES[button.dataset.key]());
}

// Escape hides the figures (they cover a corner of the map).
document.addEventListener("keydown", (e) => { if (e.key === "Escape") showArea(undefined); });

// Hovering an area describes it.
areasLayer.addEventListener("pointerover", (e) => { if (!drag || !drag.moved) showArea(e.target.dataset.code); });

// Pan by dragging (once the pointer has moved, so a click still reaches a marker),
// zoom with the wheel around the pointer.
let drag = null;
svg.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, view: { ...view }, moved: false }; });
svg.addEventListener("pointermove", (e) => {
  if (!drag) return;
  if (!drag.moved && Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < 4) return;
  if (!drag.moved) {
    drag.moved = true;
    svg.classList.add("dragging");
    svg.setPointerCapture(e.pointerId);
  }
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
  zoomBy(e.deltaY > 0 ? 1.2 : 1 / 1.2, (e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height);
}, { passive: false });
