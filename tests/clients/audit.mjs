// Run the graphql-http server audit and print every result, then a summary line (JSON).
// usage: node audit.mjs HTTP_URL
import { auditServer } from "graphql-http";

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
const problems = [];
for (const r of results) {
  counts[r.status] += 1;
  if (r.status !== "ok") {
    let body = "";
    try {
      body = r.response ? await r.response.text() : "";
    } catch {}
    problems.push({ id: r.id, name: r.name, status: r.status, reason: r.reason, body });
  }
}
for (const r of results) console.error(`${r.status.padEnd(5)} ${r.id} ${r.name}`);
console.log(JSON.stringify({ total: results.length, ...counts, problems }));
