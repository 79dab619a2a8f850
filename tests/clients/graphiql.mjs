// Open GraphiQL in headless Chromium, run a query, print what the response pane shows (JSON).
// Every request to a host other than 127.0.0.1 is blocked twice over: by Chromium's host resolver
// rules and by a request interceptor that records what it refused.
// usage: node graphiql.mjs HTTP_URL QUERY EXPECTED_TEXT [CHROMIUM]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, query, expected, executable = "/usr/bin/chromium"] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "codekg-graphiql-"));
const blocked = [];
const failures = [];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: executable,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  ],
});
try {
  await context.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === "127.0.0.1") return route.continue();
    blocked.push(route.request().url());
    return route.abort("blockedbyclient");
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("requestfailed", (r) => failures.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${url}?q=${encodeURIComponent(query)}`, { waitUntil: "load", timeout: 30000 });
  await page.waitForSelector(".graphiql-execute-button", { timeout: 30000 });
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(
    (text) => (document.querySelector(".graphiql-response")?.innerText ?? "").includes(text),
    expected,
    { timeout: 30000 },
  );
  const response = await page.$eval(".graphiql-response", (el) => el.innerText);
  const title = await page.title();
  console.log(JSON.stringify({ title, response, blocked, failures, errors }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
