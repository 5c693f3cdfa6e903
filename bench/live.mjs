// The subscribers' benchmark: SUBSCRIBERS subscriptions to one author's profile over
// graphql-transport-ws (20 per connection, 8 connections per user: the server's bounds), then
// the author pins and unpins a public picture ROUNDS times. Prints the server's memory per
// subscriber and the latency from the mutation's start to each delivery (p50, p99, the last).
// usage: node bench/live.mjs MOMENTS_BINARY DATABASE_URL SERVER_URL SERVER_PID
// settings: SUBSCRIBERS (10000), ROUNDS (10), AUTHOR (user00017)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const [binary, databaseUrl, server, pid] = process.argv.slice(2);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const AUTHOR = process.env.AUTHOR ?? "user00017";
const PER_CONNECTION = 20;
const CONNECTIONS_PER_USER = 8;

const rssKiB = () => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);
const token = (handle) =>
  execFileSync(binary, ["token", handle], { env: { DATABASE_URL: databaseUrl, RUST_LOG: "error" } }).toString().trim();
const handle = (i) => `user${String(i).padStart(5, "0")}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function gql(tok, query, variables = {}) {
  const response = await fetch(`${server}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// The author's friends first (they see public moments), then others as needed.
const author = Number(AUTHOR.replace(/\D/g, ""));
const viewers = [];
for (let d = 1; viewers.length * PER_CONNECTION * CONNECTIONS_PER_USER < SUBSCRIBERS; d++) {
  viewers.push(handle((author + d) % 2000), handle((author + 2000 - d) % 2000));
}
const authorToken = token(AUTHOR);
const { profile } = await gql(authorToken, `query($h: String!) { profile(handle: $h) { timeline(first: 100) {
  nodes { id viewerCanPin audience { mode } } } } }`, { h: AUTHOR });
const target = profile.timeline.nodes.find((m) => m.viewerCanPin && m.audience.mode === "PUBLIC");
if (!target) throw new Error(`${AUTHOR} has no public picture to pin among their 100 newest moments`);

const idle = rssKiB();
const arrivals = [];
let subscribed = 0;
const sockets = [];
const query = `subscription($h: String!) { profileChanged(handle: $h) { kind momentId moment { isPinned } } }`;
for (const viewer of viewers) {
  const tok = token(viewer);
  for (let c = 0; c < CONNECTIONS_PER_USER && subscribed < SUBSCRIBERS; c++) {
    const socket = new WebSocket(`${server.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    sockets.push(socket);
    await new Promise((resolve, reject) => {
      socket.on("error", reject);
      socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${tok}` } })));
      socket.on("message", (data) => {
        const message = JSON.parse(data);
        if (message.type === "connection_ack") {
          for (let s = 0; s < PER_CONNECTION && subscribed < SUBSCRIBERS; s++, subscribed++) {
            socket.send(JSON.stringify({ id: String(s), type: "subscribe", payload: { query, variables: { h: AUTHOR } } }));
          }
          resolve();
        } else if (message.type === "next") {
          arrivals.push(performance.now());
        } else if (message.type === "ping") {
          socket.send(JSON.stringify({ type: "pong" }));
        }
      });
    });
  }
}
await sleep(3000);
const loaded = rssKiB();

const latencies = [];
const lasts = [];
let delivered = 0;
for (let round = 0; round < ROUNDS; round++) {
  arrivals.length = 0;
  const mutation = round % 2 === 0 ? "pin" : "unpin";
  const started = performance.now();
  await gql(authorToken, `mutation($m: ID!) { ${mutation}(momentId: $m) { moment { isPinned } } }`, { m: target.id });
  // Wait until deliveries stop for a second.
  let seen = -1;
  while (seen !== arrivals.length) {
    seen = arrivals.length;
    await sleep(1000);
  }
  delivered = arrivals.length;
  for (const at of arrivals) latencies.push(at - started);
  lasts.push(Math.max(...arrivals) - started);
}
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(0);
const perSubscriber = (((loaded - idle) * 1024) / subscribed).toFixed(0);
console.log(
  `RESULT subscribers=${subscribed} connections=${sockets.length} delivered_per_event=${delivered} ` +
    `rss_idle_mib=${(idle / 1024).toFixed(1)} rss_subscribed_mib=${(loaded / 1024).toFixed(1)} bytes_per_subscriber=${perSubscriber} ` +
    `latency_p50_ms=${at(0.5)} latency_p99_ms=${at(0.99)} last_delivery_ms_median=${lasts.sort((a, b) => a - b)[Math.floor(lasts.length / 2)].toFixed(0)}`,
);
for (const socket of sockets) socket.terminate();
process.exit(0);
