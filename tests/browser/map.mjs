// Drives the map page in headless Chromium: search a postcode and count markers
// and list items; switch to gaps and count shaded areas; screenshot both. Prints
// what it saw as JSON on stdout for the Rust test to judge.
// Usage: node map.mjs <base url> <postcode> <screenshot dir>
import { chromium } from "playwright-core";

const [base, postcode, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const seen = { elsewhere: [], errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // Anything fetched from another origin would break the page offline.
  page.on("request", (r) => { if (!r.url().startsWith(base)) seen.elsewhere.push(r.url()); });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  await page.goto(base + "/");
  await page.waitForSelector("#areas path.area");
  seen.baseAreas = await page.locator("#areas path.area").count();

  await page.fill("#postcode", postcode);
  await page.fill("#age", "72");
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector("#markers circle.marker", { timeout: 10000 });
  seen.markers = await page.locator("#markers circle.marker").count();
  seen.items = await page.locator("#results > li").count();
  seen.reasons = await page.locator("#results .reasons li").count();
  seen.status = await page.textContent("#status");
  await page.screenshot({ path: `${out}/search.png` });

  // Zoom and pan change the view.
  const before = await page.getAttribute("#map", "viewBox");
  await page.mouse.move(600, 400);
  await page.mouse.wheel(0, -300);
  await page.mouse.down();
  await page.mouse.move(500, 350);
  await page.mouse.up();
  seen.viewChanged = before !== (await page.getAttribute("#map", "viewBox"));

  await page.click("#mode-gaps");
  await page.click("#gap-form button[type=submit]");
  await page.waitForSelector("#areas path.shaded", { timeout: 10000 });
  seen.shaded = await page.locator("#areas path.shaded").count();
  seen.colours = await page.$$eval("#areas path.shaded", (ps) => new Set(ps.map((p) => p.style.fill)).size);
  seen.legendRows = await page.locator("#legend div").count();
  await page.screenshot({ path: `${out}/gaps.png` });
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
