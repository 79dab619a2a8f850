// Subscribe with graphql-ws (graphql-transport-ws) and print the first result as JSON.
// usage: node graphql-ws-client.mjs WS_URL QUERY VARIABLES_JSON [TOKEN]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, query, variablesJson, token] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.error("timed out waiting for a subscription event");
  process.exit(2);
}, 30000);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  keepAlive: 200, // client pings too: the server must answer with pong
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
});

let pongs = 0;
client.on("pong", () => { pongs += 1; });
let serverPings = 0;
client.on("ping", (received) => { if (received) serverPings += 1; });

try {
  const iterator = client.iterate({ query, variables: JSON.parse(variablesJson || "{}") });
  const { value } = await iterator.next();
  // let keep-alives flow both ways (up to 10 s on a busy machine)
  for (let i = 0; i < 100 && (pongs < 1 || serverPings < 1); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await iterator.return?.();
  console.log(JSON.stringify({ result: value, pongs, serverPings }));
  clearTimeout(timer);
  await client.dispose();
  process.exit(0);
} catch (err) {
  console.error("subscription failed:", err);
  process.exit(1);
}
