// Drives the map page in headless Chromium. First by keyboard alone (page.keyboard,
// no clicks): search a postcode, open a result, pan and zoom, switch to gaps and
// read an area's figures; then by pointer (hover, wheel, drag). axe-core audits
// three views: the first, after a search, and the gaps. The reasons the page shows
// are compared with the API's for the same search. Prints what it saw as JSON on
// stdout for the Rust test to judge; screenshots go to the given directory.
// Usage: node map.mjs <base url> <postcode> <screenshot dir>
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [base, postcode, out] = process.argv.slice(2);
// From the installed package, injected as a script: nothing is fetched from elsewhere.
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
const OUTCOME_WORDS = { MET: "Met", NOT_MET: "Not met", UNKNOWN: "Unknown" };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const seen = { elsewhere: [], errors: [], axe: {}, unfocusable: [], reasonMismatches: [] };
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
// Anything fetched from another origin would break the page offline.
page.on("request", (r) => { if (!r.url().startsWith(base)) seen.elsewhere.push(r.url()); });
page.on("pageerror", (e) => seen.errors.push(String(e)));

async function audit(view) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (tags) => {
    const found = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return found.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  }, AXE_TAGS);
  for (const v of violations) console.error(`axe, ${view}: ${v.id} (${v.impact}) ${v.help}: ${v.targets.join(" | ")}`);
  seen.axe[view] = violations.map((v) => `${v.id}: ${v.targets.join(" | ")}`);
}

const press = (key) => page.keyboard.press(key);
const active = (selector) => page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector);
const viewBox = async () => (await page.getAttribute("#map", "viewBox")).split(" ").map(Number);
const text = (selector) => page.textContent(selector);

// Tab (or Shift+Tab) until the focus is on `selector`; each stop must show its focus.
async function tabTo(selector, backwards = false) {
  for (let n = 0; n < 80; n++) {
    await press(backwards ? "Shift+Tab" : "Tab");
    const shown = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return true;
      const style = getComputedStyle(e);
      return style.outlineStyle !== "none" || parseFloat(style.strokeWidth) >= 3;
    });
    if (!shown) seen.unfocusable.push(await page.evaluate(() => document.activeElement.outerHTML.slice(0, 80)));
    if (await active(selector)) return;
  }
  throw new Error(`the keyboard never reached ${selector}`);
}

try {
  await page.goto(base + "/");
  await page.waitForSelector("#areas path.area");
  seen.baseAreas = await page.locator("#areas path.area").count();
  seen.areaNames = await page.evaluate(() => [...drawn.values()].slice(0, 3).map((a) => a.p.name));
  await audit("first view");

  // Search, by keyboard.
  await tabTo("#postcode");
  await page.keyboard.type(postcode);
  await tabTo("#age");
  await page.keyboard.type("72");
  const asked = page.waitForRequest((r) => r.url().endsWith("/graphql") && (r.postData() || "").includes("search("));
  await press("Enter");
  const variables = JSON.parse((await asked).postData()).variables;
  await page.waitForSelector("#markers circle.marker", { timeout: 10000 });
  seen.markers = await page.locator("#markers circle.marker").count();
  seen.items = await page.locator("#results > li").count();
  seen.status = await text("#status");

  // Pan and zoom from the keyboard, with the map focused.
  await tabTo("#map");
  let before = await viewBox();
  await press("ArrowRight");
  let after = await viewBox();
  seen.arrowPans = after[0] > before[0] && after[2] === before[2];
  await press("+");
  before = after;
  after = await viewBox();
  seen.plusZooms = after[2] < before[2];
  await press("-");
  seen.minusZooms = (await viewBox())[2] > after[2];

  // A focused marker marks its list item; a focused result marks its marker and opens.
  await tabTo(".marker");
  const markerIndex = await page.evaluate(() => document.activeElement.dataset.index);
  seen.markerMarksItem = (await page.getAttribute("#results > li.hl", "data-index")) === markerIndex;
  await tabTo("#results summary");
  const itemIndex = await page.evaluate(() => document.activeElement.closest("li").dataset.index);
  seen.itemMarksMarker = (await page.getAttribute(".marker.hl", "data-index")) === itemIndex;
  await press("Enter");
  seen.resultOpens = await page.evaluate((i) => document.querySelector(`#result-${i} details`).open, itemIndex);
  seen.openReasons = await page.locator(`#result-${itemIndex} .reasons li`).count();
  seen.openText = await text(`#result-${itemIndex} details`);
  await page.screenshot({ path: `${out}/search.png` });
  await audit("search");

  // The page's reasons are the API's, result by result, for the same search.
  const shown = await page.$$eval("#results > li", (items) => items.map((li) => ({
    name: li.querySelector(".name").textContent,
    reasons: [...li.querySelectorAll(".reasons li")].map((r) => ({
      criterion: r.dataset.criterion, outcome: r.dataset.outcome,
      detail: r.querySelector(".detail").textContent, words: r.querySelector("b").textContent,
    })),
  })));
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "query($input: SearchInput!) { search(input: $input, first: 100) { edges { node { service { name } fit { reasons { criterion outcome detail } } } } } }",
      variables,
    }),
  });
  const api = (await response.json()).data.search.edges.map((e) => e.node);
  seen.apiResults = api.length;
  seen.reasonsCompared = 0;
  shown.forEach((item, i) => {
    const want = api[i];
    const got = item.reasons.map(({ criterion, outcome, detail }) => ({ criterion, outcome, detail }));
    if (!want || want.service.name !== item.name || JSON.stringify(want.fit.reasons) !== JSON.stringify(got)) {
      seen.reasonMismatches.push({ index: i, page: item, api: want || null });
    }
    for (const r of item.reasons) if (r.words !== OUTCOME_WORDS[r.outcome]) seen.reasonMismatches.push({ index: i, words: r });
    seen.reasonsCompared += item.reasons.length;
  });

  // Gaps, by keyboard: the view switch, the form, then an area's figures.
  await tabTo("#mode-gaps", true);
  await press("Space");
  seen.gapFormShown = await page.isVisible("#gap-form");
  // Befriending for people aged 65 and over: a closed select takes typed letters.
  await tabTo("#gap-term");
  await page.keyboard.type("Befriending");
  seen.gapTerm = await page.inputValue("#gap-term");
  await tabTo("#age-from");
  await page.keyboard.type("65");
  await tabTo("#gap-form button[type=submit]");
  await press("Enter");
  await page.waitForSelector("#areas path.shaded", { timeout: 10000 });
  seen.shaded = await page.locator("#areas path.shaded").count();
  seen.colours = await page.$$eval("#areas path.shaded", (ps) => new Set(ps.map((p) => p.style.fill)).size);
  seen.legend = await page.$$eval("#legend li", (rows) => rows.map((r) => r.textContent));
  seen.tableRows = await page.locator("#area-table tbody tr").count();
  seen.tableClasses = await page.$$eval("#area-table tbody td:nth-child(2)", (cells) => [...new Set(cells.map((c) => c.textContent.trim()))]);
  await tabTo("#map");
  for (let n = 0; n < 6; n++) await press("-");
  seen.areaUnderCross = await text("#area-info");
  await page.screenshot({ path: `${out}/gaps.png` });
  await press("ArrowUp");
  await tabTo("#area-table tbody button");
  const rowName = await page.evaluate(() => document.activeElement.textContent);
  seen.tableRowDescribes = (await text("#area-info")).startsWith(rowName);
  await audit("gaps");

  // By pointer: hovering an area describes it; the wheel and a drag move the view.
  const box = await page.locator("#map").boundingBox();
  const [cx, cy] = [box.x + box.width / 3, box.y + box.height / 3];
  await page.mouse.move(cx, cy);
  const hoveredName = await page.evaluate(([x, y]) => {
    const hit = document.elementsFromPoint(x, y).find((e) => e.classList.contains("area"));
    return hit ? drawn.get(hit.dataset.code).p.name : null;
  }, [cx, cy]);
  seen.hoverDescribes = !!hoveredName && (await text("#area-info")).startsWith(hoveredName);
  before = await viewBox();
  await page.mouse.move(600, 400);
  await page.mouse.wheel(0, -300);
  await page.mouse.down();
  await page.mouse.move(500, 350);
  await page.mouse.up();
  seen.pointerMoves = JSON.stringify(before) !== JSON.stringify(await viewBox());
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
