// The map's two views. Search: services near a postcode as markers and a list, each
// result opening to all its reasons, capacity and distance; a marker and its list
// item highlight each other. Gaps: areas shaded in legend classes, with a table of
// every area's figures and class (the map's text alternative).
"use strict";

const statusLine = $("status");
const results = $("results");
const legend = $("legend");
const table = $("area-table");
const SHADES = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
const NO_FIGURE = "#cfd6de";
const REACH_METRES = 2000;
const OUTCOME = { MET: "Met", NOT_MET: "Not met", UNKNOWN: "Unknown" };
const CAPACITY = { ACCEPTING: "Accepting", WAITLIST: "Waiting list", FULL: "Full", PAUSED: "Paused", UNKNOWN: "not known" };
const state = { mode: "search", base: [], gaps: null, status: { search: statusLine.textContent, gaps: "Choose what to measure, then Show gaps." } };

function say(text) {
  state.status[state.mode] = text;
  statusLine.textContent = text;
}

function html(name, props, ...children) {
  const node = Object.assign(document.createElement(name), props);
  node.append(...children.filter((c) => c != null));
  return node;
}

const words = (code) => code.charAt(0) + code.slice(1).toLowerCase().replaceAll("_", " ");
const km = (m) => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toLocaleString("en-GB", { maximumFractionDigits: 1 })} km`);
const per1000 = (v) => v.toLocaleString("en-GB", { maximumFractionDigits: 1 });

async function start() {
  try {
    const data = await gql("{ taxonomyTerms { code name } areaTypes }");
    for (const select of document.querySelectorAll("select.terms")) {
      for (const t of data.taxonomyTerms) select.appendChild(new Option(t.name, t.code));
    }
    for (const t of data.areaTypes) $("area-type").appendChild(new Option(t, t));
    if (data.areaTypes.length) state.base = await loadGeojson({ areaType: data.areaTypes[0] });
    drawAreas(state.base, null, (p) => p.name);
  } catch (e) {
    say(`Could not load the map: ${e.message}`);
  }
}

// Search.
const SEARCH = `query($input: SearchInput!) { search(input: $input, first: 30) { edges { node {
  service { id name organization { name } capacity { status available unit waitlistLength typicalWaitDays } }
  distanceMetres reach nearestLocation { latitude longitude }
  fit { suitable reasons { criterion outcome detail } } } } } }`;

$("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const postcode = $("postcode").value.trim();
  const input = { near: { postcode }, radiusMetres: Number($("radius").value), includeUnsuitable: true };
  if ($("term").value) input.taxonomyTerms = [$("term").value];
  if ($("age").value !== "") input.person = { age: Number($("age").value) };
  say("Searching…");
  try {
    const [found, place] = await Promise.all([
      gql(SEARCH, { input }),
      gql("query($c: String!) { postcode(code: $c) { latitude longitude } }", { c: postcode }).catch(() => null),
    ]);
    showResults(found.search.edges.map((e) => e.node), place && place.postcode);
    say(results.childElementCount ? `${results.childElementCount} services near ${postcode.toUpperCase()}; open one for its reasons.` : "Nothing found within that distance.");
  } catch (e) {
    say(e.message);
    results.replaceChildren();
    markersLayer.replaceChildren();
  }
});

function where(m) {
  if (m.distanceMetres != null) return `${km(m.distanceMetres)} away`;
  return m.reach === "REMOTE" ? "online or by phone" : "comes to this area";
}

function capacityText(c) {
  if (!c) return "Capacity not recorded";
  const parts = [`Capacity: ${CAPACITY[c.status]}`];
  if (c.available != null) parts.push(`${c.available} ${c.unit || "places"} free`);
  if (c.waitlistLength) parts.push(`${c.waitlistLength} waiting`);
  if (c.typicalWaitDays != null) parts.push(`typical wait ${c.typicalWaitDays} days`);
  return parts.join(", ");
}

function resultItem(m, i) {
  const reasons = html("ul", { className: "reasons" }, ...m.fit.reasons.map((r) => {
    const li = html("li", { className: r.outcome }, html("b", {}, OUTCOME[r.outcome]), ` — ${words(r.criterion)}: `, html("span", { className: "detail" }, r.detail));
    Object.assign(li.dataset, { criterion: r.criterion, outcome: r.outcome });
    return li;
  }));
  const summary = html("summary", {}, html("span", { className: "name" }, m.service.name), ` — ${where(m)}${m.fit.suitable ? "" : " (not suitable)"}`);
  const details = html("details", {}, summary,
    html("p", {}, `Run by ${m.service.organization.name}.`),
    html("p", {}, `${capacityText(m.service.capacity)}.`),
    m.fit.reasons.length ? reasons : html("p", {}, "No criteria to check."));
  const li = html("li", { id: `result-${i}`, className: "result" }, details);
  li.dataset.index = i;
  li.addEventListener("focusin", () => highlight(i, false));
  li.addEventListener("pointerenter", () => highlight(i, false));
  return li;
}

function showResults(matches, origin) {
  markersLayer.replaceChildren();
  results.replaceChildren(...matches.map(resultItem));
  const located = matches.map((m, i) => [m, i]).filter(([m]) => m.nearestLocation);
  const pts = located.map(([m]) => [m.nearestLocation.longitude, m.nearestLocation.latitude]);
  if (origin) pts.push([origin.longitude, origin.latitude]);
  zoomTo(pts, 0.15);
  if (!projection) return;
  if (origin) {
    const [x, y] = project([origin.longitude, origin.latitude]);
    markersLayer.appendChild(el("circle", { cx: x, cy: y, r: view.w / 120, class: "origin", "aria-hidden": "true" }));
  }
  for (const [m, i] of located) {
    const [x, y] = project([m.nearestLocation.longitude, m.nearestLocation.latitude]);
    const dot = el("circle", {
      cx: x, cy: y, r: view.w / 150, class: m.fit.suitable ? "marker" : "marker unsuitable",
      tabindex: "0", role: "button", "data-index": i,
      "aria-label": `${i + 1}. ${m.service.name}, ${where(m)}${m.fit.suitable ? "" : ", not suitable"}`,
    });
    const open = () => {
      const item = $(`result-${i}`);
      item.querySelector("details").open = true;
      item.querySelector("summary").focus();
    };
    dot.addEventListener("click", open);
    dot.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
    dot.addEventListener("focus", () => highlight(i, true));
    dot.addEventListener("pointerenter", () => highlight(i, true));
    markersLayer.appendChild(dot);
  }
}

// Mark one result in the list and on the map; from the map, bring its item into view.
function highlight(i, fromMap) {
  for (const old of document.querySelectorAll("#results > li.hl, .marker.hl")) old.classList.remove("hl");
  const item = $(`result-${i}`);
  item.classList.add("hl");
  if (fromMap) item.scrollIntoView({ block: "nearest" });
  const dot = markersLayer.querySelector(`[data-index="${i}"]`);
  if (dot) dot.classList.add("hl");
}

// Gaps.
$("gap-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const params = { areaType: $("area-type").value, maxDistanceMetres: REACH_METRES };
  if ($("gap-term").value) params.taxonomyTerms = $("gap-term").value;
  if ($("age-from").value !== "") params.ageFrom = $("age-from").value;
  say("Measuring gaps…");
  try {
    const features = await loadGeojson(params);
    state.gaps = { features, measure: $("measure").value };
    showGaps();
    const uncovered = features.filter((f) => !f.properties.covered).length;
    say(`${features.length} areas; ${uncovered} with no matching service within ${km(REACH_METRES)}.`);
  } catch (e) {
    say(e.message);
  }
});

// Legend classes, in order from the best served to the gaps: "0" when some areas
// measure nothing, up to three quantile classes of the rest (bounds rounded to two
// figures), "none within reach", and "no figure". Shades darken towards the gaps.
function classesFor(features, measure) {
  const round = (v) => Number(v.toPrecision(2));
  const fmt = measure === "placesPer1000" ? per1000 : km;
  const within = features.map((f) => f.properties).filter((p) => p.covered && p[measure] != null);
  const positive = within.map((p) => p[measure]).filter((v) => v > 0).sort((a, b) => a - b);
  const lows = positive.length ? [positive[0]] : [];
  for (const k of [1, 2]) {
    const cut = round(positive[Math.floor((k * positive.length) / 3)] ?? 0);
    if (cut > lows[lows.length - 1]) lows.push(cut);
  }
  const n = lows.length;
  const ranges = lows.map((low, i) => ({
    label: n === 1 ? `above 0, up to ${fmt(round(positive[positive.length - 1]))}`
      : i === 0 ? `above 0, under ${fmt(lows[1])}` : i === n - 1 ? `${fmt(low)} or more` : `${fmt(low)} to under ${fmt(lows[i + 1])}`,
    count: 0,
  }));
  const zero = { label: measure === "placesPer1000" ? "none in the area" : "0 m", count: 0 };
  const ascending = [zero, ...ranges];
  const ordered = measure === "placesPer1000" ? ascending.reverse() : ascending; // best first
  const none = { label: `no matching service within ${km(REACH_METRES)}`, shade: SHADES[4], count: 0 };
  const noFigure = { label: "no figure", shade: NO_FIGURE, count: 0 };
  const classOf = (p) => {
    const v = p[measure];
    if (!p.covered) return none;
    if (v == null) return noFigure;
    return v === 0 ? zero : ranges[lows.filter((low) => v >= low).length - 1];
  };
  for (const f of features) classOf(f.properties).count += 1;
  const used = ordered.filter((c) => c.count);
  used.forEach((c, r) => { c.shade = SHADES[used.length === 1 ? 1 : Math.round((r * 3) / (used.length - 1))]; });
  const list = [...used, none, noFigure].filter((c) => c.count);
  return { list, classOf, worstFirst: [none, ...[...used].reverse(), noFigure] };
}

function describeGap(p, cls) {
  return [
    p.name,
    `Class: ${cls.label}`,
    p.placesPer1000 != null ? `${per1000(p.placesPer1000)} places per 1,000 people` : "Places per 1,000: no population figure",
    p.nearestServiceMetres != null ? `Nearest service ${km(p.nearestServiceMetres)}` : "No matching service located",
    `${p.searches} searches, ${p.unmetSearches} unmet`,
  ].join("\n");
}

function showGaps() {
  const { features, measure } = state.gaps;
  const classes = classesFor(features, measure);
  drawAreas(features, classes.classOf, describeGap);
  const swatch = (c) => html("span", { className: "swatch", ariaHidden: "true", style: `background:${c.shade}` });
  legend.replaceChildren(
    html("strong", {}, measure === "placesPer1000" ? "Places per 1,000 people" : "Distance to the nearest service"),
    html("ul", {}, ...classes.list.map((c) => html("li", {}, swatch(c), `${c.label} (${c.count} areas)`))),
  );
  const rows = features.map((f) => f.properties).map((p) => ({ p, c: classes.classOf(p) }));
  const worseFirst = measure === "placesPer1000" ? 1 : -1;
  const rank = (c) => classes.worstFirst.indexOf(c);
  const far = (p) => p.nearestServiceMetres ?? Number.MAX_VALUE;
  rows.sort((a, b) => rank(a.c) - rank(b.c) || worseFirst * ((a.p[measure] ?? 0) - (b.p[measure] ?? 0))
    || far(b.p) - far(a.p) || a.p.name.localeCompare(b.p.name));
  table.tBodies[0].replaceChildren(...rows.map(({ p, c }) => {
    const button = html("button", { type: "button" }, p.name);
    button.addEventListener("focus", () => showArea(p.code));
    button.addEventListener("click", () => focusArea(p.code));
    const tr = html("tr", {}, html("th", { scope: "row" }, button), html("td", {}, swatch(c), ` ${c.label}`),
      html("td", {}, p.placesPer1000 != null ? per1000(p.placesPer1000) : "—"),
      html("td", {}, p.nearestServiceMetres != null ? km(p.nearestServiceMetres) : "—"),
      html("td", {}, String(p.searches)), html("td", {}, String(p.unmetSearches)));
    tr.dataset.code = p.code;
    tr.addEventListener("pointerenter", () => showArea(p.code));
    return tr;
  }));
  legend.hidden = table.hidden = false;
}

// Views: each keeps its own form, status, layers and panel.
function switchTo(mode) {
  state.mode = mode;
  const gaps = mode === "gaps";
  $("mode-search").setAttribute("aria-pressed", String(!gaps));
  $("mode-gaps").setAttribute("aria-pressed", String(gaps));
  $("search-form").hidden = gaps;
  $("gap-form").hidden = !gaps;
  results.hidden = gaps;
  markersLayer.style.display = gaps ? "none" : "";
  legend.hidden = table.hidden = !gaps || !state.gaps;
  if (gaps && state.gaps) showGaps();
  else drawAreas(state.base, null, (p) => p.name);
  statusLine.textContent = state.status[mode];
}
$("mode-search").addEventListener("click", () => switchTo("search"));
$("mode-gaps").addEventListener("click", () => switchTo("gaps"));

start();
