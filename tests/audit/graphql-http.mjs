// The GraphQL-over-HTTP conformance audit (graphql-http's `auditServer`) against a
// running server. Prints every audit with its status and reason, then "N/61 ok";
// exits 1 when a MUST audit fails (2 when it cannot run at all).
// Usage: node tests/audit/graphql-http.mjs http://127.0.0.1:PORT/graphql
//
// graphql-http lives outside the clone (SIGNPOST_NODE_MODULES, default
// /var/tmp/signpost-node/node_modules, as for tests/browser): ES module imports do not
// read NODE_PATH, so it is loaded through a require rooted in that folder.
import { createRequire } from "node:module";
import path from "node:path";

const url = process.argv[2];
if (!url) {
  console.error("usage: node tests/audit/graphql-http.mjs <graphql url>");
  process.exit(2);
}
const modules = process.env.SIGNPOST_NODE_MODULES || "/var/tmp/signpost-node/node_modules";
let auditServer;
try {
  ({ auditServer } = createRequire(path.join(modules, "..", "noop.js"))("graphql-http"));
} catch (e) {
  console.error(`cannot load graphql-http from ${modules} (npm install graphql-http graphql there): ${e.message}`);
  process.exit(2);
}

const results = await auditServer({ url });
const mustFailures = [];
let ok = 0;
for (const result of results) {
  if (result.status === "ok") ok += 1;
  const level = result.name.split(" ")[0];
  if (level === "MUST" && result.status !== "ok") mustFailures.push(result);
  let line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status !== "ok") {
    // The reason is graphql-http's words; the status and body show what was sent back.
    let body = "";
    try {
      body = (await result.response.text()).replace(/\s+/g, " ").slice(0, 300);
    } catch {
      body = "<body already read>";
    }
    line += `\n       reason: ${result.reason}\n       got: ${result.response.status} ${result.response.headers.get("content-type") ?? "<no content-type>"} ${body}`;
  }
  console.log(line);
}
console.log(`${ok}/${results.length} ok`);
if (mustFailures.length > 0) {
  console.log(`${mustFailures.length} MUST audit(s) failed: ${mustFailures.map((r) => r.id).join(", ")}`);
  process.exit(1);
}
