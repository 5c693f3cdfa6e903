// The hostile benchmark's WebSocket cases (docs/benchmarks.md, "Hostile requests"): the worst
// graphql-transport-ws traffic we can build from one address (127.0.0.2, ATTACKER_ADDRESS), against
// a server on the hostile world. Run once, a case prints one JSON line saying what the server let it hold; with `loop` it
// repeats until killed, while bench/hostile.py measures the other clients.
// usage: node bench/hostile-live.mjs CASE SERVER_URL TOKENS_FILE [loop]
//   CASE: socket-flood | operation-flood | http-flood | subscription-flood | id-churn
//   TOKENS_FILE: JSON {"mallory": …, "pinner": …, "users": [… 50 tokens …]}
import { readFileSync } from "node:fs";
import http from "node:http";
import WebSocket from "ws";

const [which, server, tokensFile, mode] = process.argv.slice(2);
const tokens = JSON.parse(readFileSync(tokensFile, "utf8"));
const url = `${server.replace("http", "ws")}/graphql`;
// The attacker's own address, apart from the other clients' 127.0.0.1: the limits per address are
// the attacker's, as they would be on a network.
const localAddress = process.env.ATTACKER_ADDRESS ?? "127.0.0.2";
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, localAddress });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const aliases = (n, field) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");

/** A socket and the messages it gets, with a way to wait for one. */
function open(token) {
  const socket = new WebSocket(url, "graphql-transport-ws", { localAddress });
  const state = { socket, messages: [], waiters: [], status: "connecting", code: null };
  const settle = () => {
    state.waiters = state.waiters.filter(({ test, resolve }) => {
      const found = state.messages.find(test);
      if (found || state.status === "closed") resolve(found);
      return !(found || state.status === "closed");
    });
  };
  socket.on("open", () => {
    state.status = "open";
    if (token) socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token}` } }));
  });
  socket.on("unexpected-response", (_, response) => {
    state.status = "closed";
    state.code = response.statusCode;
    settle();
  });
  socket.on("error", () => {});
  socket.on("message", (data) => {
    // A large answer is not parsed whole: the attacker's own work should not load the machine.
    const message =
      data.length < 4096 ? JSON.parse(data) : JSON.parse(String(data.subarray(0, 200)).replace(/,"payload".*$/, "}"));
    if (message.type === "ping") socket.send(JSON.stringify({ type: "pong" }));
    if (message.type === "connection_ack") state.status = "signed in";
    state.messages.push(message);
    settle();
  });
  socket.on("close", (code) => {
    state.status = "closed";
    state.code ??= code;
    settle();
  });
  state.wait = (test, ms = 60_000) =>
    Promise.race([
      new Promise((resolve) => {
        state.waiters.push({ test, resolve });
        settle();
      }),
      sleep(ms).then(() => undefined),
    ]);
  state.send = (message) => state.status !== "closed" && socket.send(JSON.stringify(message));
  return state;
}

const signedIn = (s) => s.wait((m) => m.type === "connection_ack", 10_000);
const count = (list, key) => list.reduce((all, x) => ({ ...all, [key(x)]: (all[key(x)] ?? 0) + 1 }), {});
const closeAll = async (sockets) => {
  for (const s of sockets) s.socket.close(1000);
  await sleep(200);
};

/** A GraphQL request over HTTP from the attacker's address: whether it was answered 200 (the answer
 * itself is not read: the attacker's own work should not load the machine). */
function post(token, query) {
  const body = JSON.stringify({ query });
  return new Promise((resolve) => {
    const request = http.request(
      `${server}/graphql`,
      {
        method: "POST",
        agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Authorization: `Bearer ${token}` },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode === 200));
      },
    );
    request.on("error", () => resolve(false));
    request.end(body);
  });
}

/** A GraphQL request over HTTP from the attacker's address, its answer parsed. */
function gql(token, query, variables = {}) {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server}/graphql`,
      {
        method: "POST",
        agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Authorization: `Bearer ${token}` },
      },
      (response) => {
        const chunks = [];
        response.on("data", (c) => chunks.push(c));
        response.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks)));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const cases = {
  // 400 sockets from one address: half never sign in, half sign in as one of 50 users.
  async "socket-flood"() {
    const sockets = Array.from({ length: 400 }, (_, i) => open(i % 2 ? tokens.users[i % tokens.users.length] : null));
    await sleep(2_000);
    const held = sockets.filter((s) => s.status !== "closed").length;
    const result = { held, by_state: count(sockets, (s) => (s.status === "closed" ? `closed ${s.code}` : s.status)) };
    await closeAll(sockets);
    return result;
  },
  // One user's 8 connections × 20 queries, each as large as the content budget lets it be.
  async "operation-flood"() {
    const query = `{ profile(handle: "pinner") { ${aliases(16, "pinned { text media { url } }")} } }`;
    const sockets = Array.from({ length: 8 }, () => open(tokens.mallory));
    await Promise.all(sockets.map(signedIn));
    for (const s of sockets) for (let i = 0; i < 20; i++) s.send({ id: `q${i}`, type: "subscribe", payload: { query } });
    await Promise.all(sockets.map((s) => s.wait(() => s.messages.filter((m) => m.type === "complete" || m.type === "error").length >= 20)));
    const answers = sockets.flatMap((s) => s.messages.filter((m) => m.type === "next" || m.type === "error")).length;
    const closed = count(sockets.filter((s) => s.status === "closed"), (s) => s.code);
    await closeAll(sockets);
    return { answers, closed_by_the_server: closed };
  },
  // One user's 8 connections × 20 subscriptions near the complexity limit, and one of 190 root
  // fields; then the profile's owner posts, and every subscription that was let in is answered.
  async "subscription-flood"() {
    const heavy = `subscription { profileChanged(handle: "pinner") { moment { author { profile { ${aliases(15, "pinned { text media { url } }")} } } } } }`;
    const many = `subscription { ${aliases(190, 'profileChanged(handle: "pinner") { kind }')} }`;
    const sockets = Array.from({ length: 8 }, () => open(tokens.mallory));
    await Promise.all(sockets.map(signedIn));
    sockets[0].send({ id: "many", type: "subscribe", payload: { query: many } });
    for (const s of sockets) for (let i = 0; i < 20; i++) s.send({ id: `s${i}`, type: "subscribe", payload: { query: heavy } });
    for (const s of sockets) s.send({ type: "ping" });
    await Promise.all(sockets.map((s) => s.wait((m) => m.type === "pong")));
    const refused = sockets.flatMap((s) => s.messages.filter((m) => m.type === "error")).length;
    const accepted = 8 * 20 + 1 - refused;
    const posted = await gql(tokens.pinner, 'mutation { postMoment(input: { text: "hostile", images: [{ url: "https://img.example/h.jpg" }] }) { moment { id } } }');
    const id = posted.data.postMoment.moment.id;
    const events = () => sockets.reduce((n, s) => n + s.messages.filter((m) => m.type === "next").length, 0);
    for (const until = Date.now() + 30_000; events() < accepted && Date.now() < until; ) await sleep(10);
    await gql(tokens.pinner, "mutation($m: ID!) { deleteMoment(id: $m) { deletedMomentId } }", { m: id });
    await closeAll(sockets);
    return { accepted, refused, events: events() };
  },
  // The operation flood's work over HTTP, for comparison: the same 160 queries of one user, as
  // many at once as one address may hold connections (64).
  async "http-flood"() {
    const query = `{ profile(handle: "pinner") { ${aliases(16, "pinned { text media { url } }")} } }`;
    const queue = Array.from({ length: 160 }, () => query);
    let answers = 0;
    const worker = async () => {
      while (queue.length) {
        queue.pop();
        if (await post(tokens.mallory, query)) answers++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return { answers };
  },
  // One connection reusing ids as fast as it can: a query that ends by itself, completed as its
  // answer arrives, then a subscription under the same id; then everything is completed and the
  // socket closed.
  async "id-churn"() {
    const s = open(tokens.mallory);
    await signedIn(s);
    let refused = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) {
        const id = `${round}-${i}`;
        s.send({ id, type: "subscribe", payload: { query: "{ viewer { handle } }" } });
        await s.wait((m) => m.id === id && m.type === "next");
        s.send({ id, type: "complete" });
        s.send({ id, type: "subscribe", payload: { query: 'subscription { profileChanged(handle: "pinner") { kind } }' } });
      }
      s.send({ id: `extra-${round}`, type: "subscribe", payload: { query: "{ viewer { handle } }" } });
      // The twenty-first is refused every round, if no place was freed by another's end.
      const extra = await s.wait((m) => m.id === `extra-${round}`);
      if (extra?.type === "error") refused++;
      for (let i = 0; i < 20; i++) s.send({ id: `${round}-${i}`, type: "complete" });
    }
    await closeAll([s]);
    return { rounds: 50, twenty_first_refused: refused };
  },
};

const run = cases[which];
if (!run) throw new Error(`no case ${which}: ${Object.keys(cases).join(", ")}`);
if (mode === "loop") {
  for (;;) await run();
} else {
  console.log(JSON.stringify(await run()));
  process.exit(0);
}
