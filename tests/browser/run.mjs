// The playground and the web client in a real browser: Debian's chromium, headless, driven by
// playwright-core, against the real binary serving the demo world. Every host but the server's own
// is unreachable, and every request for a script, style or font elsewhere is counted (must be 0).
// usage: node tests/browser/run.mjs MOMENTS_BINARY
// settings (environment): CHROMIUM (/usr/bin/chromium), SCREENSHOTS (tests/browser/screenshots)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const binary = resolve(process.argv[2] ?? "target/debug/moments");
const screenshots = resolve(process.env.SCREENSHOTS ?? join(here, "screenshots"));
mkdirSync(screenshots, { recursive: true });

/** Starts `moments serve --demo` on a new database; resolves to its base URL. */
function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "moments-browser-"));
  const server = spawn(binary, ["serve", "--demo", "--listen", "127.0.0.1:0"], {
    env: { ...process.env, DATABASE_URL: `sqlite://${dir}/demo.db?mode=rwc`, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = () => {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  const base = new Promise((resolveBase, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/serves GraphQL at (http:\/\/[^/\s]+)\/graphql/);
      if (found) resolveBase(found[1]);
    });
    server.on("exit", (code) => reject(new Error(`the server stopped (${code}) before it served:\n${out}`)));
    setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${out}`)), 60_000);
  });
  return { base, stop };
}

/** Sends an operation to /graphql from `page`, as its signed-in user (the web client's token) or
 * else the token the server gave the page; resolves to its `data`. */
const graphql = (page, query, variables = {}) =>
  page.evaluate(async ({ query, variables }) => {
    const given = JSON.parse(document.getElementById("moments-settings")?.textContent || "{}").token;
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${localStorage.getItem("moments.token") ?? given}` },
      body: JSON.stringify({ query, variables }),
    });
    if (!response.ok) throw new Error(`/graphql answered ${response.status}`);
    return (await response.json()).data;
  }, { query, variables });

/** `promise`, or a failure saying `what` after `ms` milliseconds. */
const within = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(what)), ms))]);

const texts = (locator) => locator.evaluateAll((nodes) => nodes.map((n) => n.textContent.trim()));

/** Waits for the page's main heading to be `name`. */
const heading = (page, name) => page.getByRole("heading", { level: 1, name }).waitFor();

/** Signs in on the sign-in form as a demo user. */
async function signIn(page, handle) {
  await page.getByLabel("Handle").fill(handle);
  await page.getByLabel("Password").fill("moments-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Visits a profile by handle through the navigation's form. */
async function visit(page, handle) {
  await page.getByLabel("Visit a profile by handle").fill(handle);
  await page.getByRole("button", { name: "Visit" }).click();
}

async function scenarios(browser, base) {
  const foreign = [];
  const errors = [];
  /** A new browser context and its page, whose requests to other hosts and errors are counted. */
  async function watchedPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin !== base && !["data:", "blob:"].includes(url.protocol)) {
        foreign.push({ type: request.resourceType(), url: request.url() });
      }
    });
    const page = await context.newPage();
    page.on("pageerror", (error) => errors.push(error.message));
    return { context, page };
  }
  const { context, page } = await watchedPage();
  // The content policy refuses what a page should not load, and says so on the console.
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) errors.push(message.text());
  });

  const run = [];
  const scenario = (name, body) => run.push([name, body]);

  scenario("the playground renders, runs a query, shows the answer, opens Profile.pinned in its docs and keeps the query in its history", async () => {
    await page.goto(`${base}/`);
    await page.locator(".graphiql-container").waitFor();
    await page.locator(".graphiql-query-editor .view-lines").waitFor();
    await page.getByRole("button", { name: /Execute query/ }).click();
    const response = page.locator(".graphiql-response .view-lines");
    await assert.doesNotReject(
      response.filter({ hasText: '"displayName": "Alice Chen"' }).waitFor({ timeout: 15_000 }),
      "the answer shows alice's profile",
    );
    await page.getByRole("button", { name: /Show Documentation Explorer/ }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByRole("link", { name: "Query", exact: true }).click();
    await docs.getByRole("link", { name: "profile", exact: true }).click();
    await docs.getByRole("link", { name: "Profile", exact: true }).first().click();
    await docs.getByRole("link", { name: "pinned", exact: true }).click();
    await docs.getByText("The pinned moments the viewer may see").waitFor();
    await page.screenshot({ path: join(screenshots, "playground.png") });
    await page.getByRole("button", { name: "Show History" }).click();
    await page.locator(".graphiql-history-item", { hasText: "Profile" }).waitFor();
  });

  scenario("the playground runs a subscription over graphql-ws and shows each event as alice pins and unpins", async () => {
    await page.goto(`${base}/`);
    const editor = page.locator(".graphiql-query-editor");
    await editor.locator(".view-lines").waitFor();
    await editor.locator(".view-lines").click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText('subscription Live { profileChanged(handle: "alice") { kind moment { text isPinned } } }');
    const subscribed = new Promise((resolve) =>
      page.on("websocket", (ws) =>
        ws.on("framesent", (frame) => String(frame.payload).includes('"type":"subscribe"') && resolve(ws)),
      ),
    );
    // The tab takes the operation's name once GraphiQL has parsed what was typed; GraphiQL may
    // still run the operation it knew before (a debounce of its own), as a quick hand would see:
    // then the button is pressed again.
    await page.locator(".graphiql-tab", { hasText: "Live" }).waitFor();
    for (let attempt = 1; ; attempt++) {
      await page.getByRole("button", { name: /Execute query/ }).click();
      try {
        await within(subscribed, 3_000, "the playground sent no subscribe over a WebSocket");
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    await page.waitForTimeout(500);
    // Alice pins and unpins through the HTTP endpoint, with the token the playground was given.
    const call = (query, variables) => graphql(page, query, variables);
    const timeline = await call('{ profile(handle: "alice") { timeline(first: 20) { nodes { id text } } } }');
    const walk = timeline.profile.timeline.nodes.find((m) => m.text === "Morning walk by the river").id;
    const response = page.locator(".graphiql-response .view-lines");
    await call("mutation($m: ID!) { pin(momentId: $m) { moment { id } } }", { m: walk });
    await response.filter({ hasText: '"kind": "PINNED"' }).waitFor({ timeout: 10_000 });
    await response.filter({ hasText: '"isPinned": true' }).waitFor();
    await call("mutation($m: ID!) { unpin(momentId: $m) { moment { id } } }", { m: walk });
    await response.filter({ hasText: '"kind": "UNPINNED"' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(screenshots, "playground-subscription.png") });
  });

  scenario("alice sees carol's 40-day-old pinned studio post above a three-day timeline", async () => {
    await page.goto(`${base}/app/u/carol`);
    await heading(page, "Carol Wang");
    assert.equal(await page.locator(".relation").textContent(), "Friend");
    const pinned = page.locator(".pinned-block .moment .text");
    assert.deepEqual(await texts(pinned), ["My studio, open for visits"]);
    assert.deepEqual(await texts(page.locator(".timeline .moment .text")), ["Busy week"]);
    const block = await page.locator(".pinned-block").boundingBox();
    const timeline = await page.locator(".timeline").boundingBox();
    assert.ok(block.y + block.height <= timeline.y, "the pinned block is above the timeline");
    const pictures = page.locator(".pinned-block img");
    assert.equal(await pictures.count(), 4);
    for (const alt of await pictures.evaluateAll((imgs) => imgs.map((i) => i.alt))) {
      assert.match(alt, /^Picture [1-4] of 4 by Carol Wang: My studio, open for visits$/);
    }
    await page.screenshot({ path: join(screenshots, "app-carol.png"), fullPage: true });
  });

  scenario("erin, a stranger, sees only alice's public pins and at most ten timeline moments", async () => {
    await page.goto(`${base}/app`);
    await heading(page, "Alice Chen");
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(page, "erin");
    await heading(page, "Erin Sun");
    await visit(page, "alice");
    await heading(page, "Alice Chen");
    assert.equal(await page.locator(".relation").textContent(), "Not a friend");
    assert.deepEqual(await texts(page.locator(".pinned-block .moment .text")), [
      "Our shop's opening hours and how to reach us",
      "Graduation day",
    ]);
    const timeline = await texts(page.locator(".timeline .moment .text"));
    assert.ok(timeline.length <= 10, `${timeline.length} moments`);
    assert.deepEqual(timeline, ["Back from the trip, more pictures soon!", "Morning walk by the river"]);
    assert.equal(await page.locator(".moment .audience, .moment button.pin, .moment .cannot-pin").count(), 0);
    // A profile without pins has no pinned block, and nothing in its place.
    await visit(page, "bob");
    await heading(page, "Bob Li");
    await page.locator(".timeline .moment").first().waitFor();
    assert.equal(await page.locator(".pinned-block").count(), 0);
    const header = await page.locator("main > *").evaluateAll((parts) => parts.map((p) => p.tagName.toLowerCase()));
    assert.deepEqual(header, ["header", "section"], "the header, then the timeline");
    assert.doesNotMatch(await page.locator("main").innerText(), /\bnull\b/);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  scenario("alice pins a picture into her pinned block in post-time order, sees why text cannot be pinned, and unpins it", async () => {
    await signIn(page, "alice");
    await heading(page, "Alice Chen");
    const pinned = page.locator(".pinned-block .moment .text");
    const before = ["Our shop's opening hours and how to reach us", "Notes to self: the new flat", "Graduation day"];
    assert.deepEqual(await texts(pinned), before);
    const walk = page.locator(".timeline .moment", { hasText: "Morning walk by the river" });
    const text = page.locator(".timeline .moment", { hasText: "Back from the trip" });
    assert.equal(
      await text.locator(".cannot-pin").textContent(),
      "Cannot pin: Text and articles cannot be pinned: only pictures and videos can.",
    );
    assert.equal(await text.getByRole("button").count(), 0, "no button that would fail");
    await walk.getByRole("button", { name: "Pin to top" }).click();
    await page.locator(".pinned-block .moment", { hasText: "Morning walk by the river" }).waitFor();
    assert.deepEqual(await texts(pinned), ["Morning walk by the river", ...before]);
    assert.equal(await page.locator(".timeline .moment", { hasText: "Morning walk by the river" }).count(), 0);
    await page.screenshot({ path: join(screenshots, "app-alice-pinned.png"), fullPage: true });
    await page.locator(".pinned-block .moment", { hasText: "Morning walk by the river" }).getByRole("button", { name: "Unpin" }).click();
    await page.locator(".timeline .moment", { hasText: "Morning walk by the river" }).waitFor();
    assert.deepEqual(await texts(pinned), before);

    await page.getByRole("link", { name: "Feed" }).click();
    await heading(page, "Feed");
    assert.equal(await page.locator(".pinned-block, .pin-mark").count(), 0, "pins play no part in the feed");
    const feed = await texts(page.locator(".moment .text"));
    assert.equal(feed[0], "Anyone up for dinner tonight?", "newest first, whoever pinned what");
    assert.ok(feed.includes("Our shop's opening hours and how to reach us"), "a pinned moment in its place");
  });

  scenario("bob, on alice's profile, sees her pin, unpin, post and delete live, through a graphql-ws subscription", async () => {
    const { context: bobs, page: bob } = await watchedPage();
    try {
      await bob.goto(`${base}/app/signin`);
      await bob.getByRole("button", { name: "Sign out" }).click();
      await signIn(bob, "bob");
      await heading(bob, "Bob Li");
      // The subscription is on once its `subscribe` went out (and the server had a moment for it).
      const subscribed = new Promise((resolve) =>
        bob.on("websocket", (ws) =>
          ws.on("framesent", (frame) => String(frame.payload).includes('"type":"subscribe"') && resolve(ws)),
        ),
      );
      await visit(bob, "alice");
      await heading(bob, "Alice Chen");
      const ws = await within(subscribed, 10_000, "the client sent no subscribe over a WebSocket");
      assert.equal(new URL(ws.url()).origin.replace("ws:", "http:"), base);
      await bob.waitForTimeout(500);
      const pinnedForBob = bob.locator(".pinned-block .moment .text");
      const before = ["Our shop's opening hours and how to reach us", "Graduation day"];
      assert.deepEqual(await texts(pinnedForBob), before);

      await page.goto(`${base}/app/u/alice`);
      await heading(page, "Alice Chen");
      const walk = page.locator(".timeline .moment", { hasText: "Morning walk by the river" });
      await walk.getByRole("button", { name: "Pin to top" }).click();
      await bob.locator(".pinned-block .moment", { hasText: "Morning walk by the river" }).waitFor({ timeout: 5_000 });
      assert.deepEqual(await texts(pinnedForBob), ["Morning walk by the river", ...before], "in post-time order");
      assert.equal(await bob.locator(".timeline .moment", { hasText: "Morning walk by the river" }).count(), 0);

      await page.locator(".pinned-block .moment", { hasText: "Morning walk by the river" }).getByRole("button", { name: "Unpin" }).click();
      await bob.locator(".timeline .moment", { hasText: "Morning walk by the river" }).waitFor({ timeout: 5_000 });
      assert.deepEqual(await texts(pinnedForBob), before);

      // A moment alice posts appears on bob's page, and goes when she deletes it.
      const call = (query, variables) => graphql(page, query, variables);
      const posted = await call('mutation { postMoment(input: { text: "Back in five" }) { moment { id } } }');
      await bob.locator(".timeline .moment", { hasText: "Back in five" }).waitFor({ timeout: 5_000 });
      assert.equal((await texts(bob.locator(".timeline .moment .text")))[0], "Back in five", "newest first");
      await call("mutation($m: ID!) { deleteMoment(id: $m) { deletedMomentId } }", { m: posted.postMoment.moment.id });
      await bob.locator(".timeline .moment", { hasText: "Back in five" }).waitFor({ state: "detached", timeout: 5_000 });
      assert.deepEqual(await texts(pinnedForBob), before);
    } finally {
      await bobs.close();
    }
  });

  scenario("alice posts a moment for her family tag, and her timeline pages on as she scrolls", async () => {
    await page.getByRole("link", { name: "Post" }).click();
    await heading(page, "Post a moment");
    await page.getByLabel("Text").fill("Dinner at grandma's");
    await page.getByLabel("Who can see it").selectOption("INCLUDE");
    await page.getByLabel("#family").check();
    await page.getByRole("button", { name: "Post", exact: true }).click();
    await heading(page, "Alice Chen");
    const first = page.locator(".timeline .moment").first();
    assert.equal(await first.locator(".text").textContent(), "Dinner at grandma's");
    assert.equal(await first.locator(".audience").textContent(), "Visible to: Only #family");
    // Eleven more through the public API, so the timeline has more than a page.
    for (let i = 1; i <= 11; i++) {
      await graphql(page, "mutation($t: String!) { postMoment(input: { text: $t }) { moment { id } } }", { t: `Note ${i}` });
    }
    await page.goto(`${base}/app/u/alice`);
    const timeline = page.locator(".timeline .moment");
    await timeline.first().waitFor();
    assert.equal(await timeline.count(), 10, "one page first");
    await page.locator(".timeline .more").scrollIntoViewIfNeeded();
    await page.locator(".timeline .end", { hasText: "No older moments." }).waitFor();
    const all = await texts(page.locator(".timeline .moment .text"));
    assert.equal(all.length, 16);
    assert.deepEqual(all.slice(0, 2), ["Note 11", "Note 10"]);
    assert.deepEqual(all.slice(-4), [
      "Back from the trip, more pictures soon!",
      "Morning walk by the river",
      "Grandma's birthday",
      "Worth reading",
    ]);
  });

  scenario("the profile at 390×844 (a phone) and at 1280×800, every control reachable by keyboard", async () => {
    for (const [name, viewport] of [["phone", { width: 390, height: 844 }], ["desktop", { width: 1280, height: 800 }]]) {
      await page.setViewportSize(viewport);
      await page.goto(`${base}/app/u/alice`);
      await heading(page, "Alice Chen");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the screen`);
      await page.screenshot({ path: join(screenshots, `app-${name}.png`) });
    }
    const unlabeled = await page.evaluate(() =>
      [...document.querySelectorAll("button, input, select, textarea, img, a")]
        .filter((e) => (e.tagName === "IMG" ? !e.alt : !(e.labels?.length || e.getAttribute("aria-label") || e.textContent.trim())))
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabeled, [], "every control has a label and every picture alt text");
    // Every control on the page when it opened is reached by Tab (more may load on the way).
    await page.evaluate(() => {
      document.querySelectorAll("main button:not([hidden]), main a[href], nav a[href], nav button, nav input").forEach((e, i) => e.setAttribute("data-tab-check", i));
    });
    const expected = await page.locator("[data-tab-check]").count();
    const reached = new Set();
    for (let i = 0; i < 400 && reached.size < expected; i++) {
      await page.keyboard.press("Tab");
      const mark = await page.evaluate(() => document.activeElement?.getAttribute("data-tab-check"));
      if (mark !== null && mark !== undefined) reached.add(mark);
    }
    assert.equal(reached.size, expected, "every control is reachable by keyboard");
  });

  scenario("a newcomer signs up and lands on an empty profile of their own", async () => {
    await page.goto(`${base}/app`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Handle").fill("zoe");
    await page.getByLabel("Display name").fill("Zoe Xu");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Sign up" }).click();
    assert.equal(await page.getByLabel("Password").evaluate((input) => input.validity.tooShort), true);
    await page.getByLabel("Password").fill("zoe-password");
    await page.getByRole("button", { name: "Sign up" }).click();
    await heading(page, "Zoe Xu");
    assert.equal(await page.locator(".relation").textContent(), "You");
    assert.equal(await page.locator(".timeline .end").textContent(), "No moments to show.");
    assert.equal(await page.locator(".pinned-block").count(), 0);
  });

  let failures = 0;
  for (const [name, body] of run) {
    try {
      await body();
      console.log(`ok     ${name}`);
    } catch (error) {
      failures += 1;
      console.log(`FAILED ${name}\n  ${String(error.stack ?? error).split("\n").slice(0, 6).join("\n  ")}`);
      await page.screenshot({ path: join(screenshots, `failed-${failures}.png`), fullPage: true }).catch(() => {});
    }
  }
  const code = foreign.filter((r) => ["script", "stylesheet", "font"].includes(r.type));
  console.log(`requests to other hosts: ${foreign.length} (${code.length} for scripts, styles or fonts), all unreachable`);
  for (const r of foreign.slice(0, 10)) console.log(`  ${r.type} ${r.url}`);
  if (code.length) {
    failures += 1;
    console.log("FAILED no script, style or font is loaded from another origin");
  }
  if (errors.length) {
    failures += 1;
    console.log(`FAILED the pages threw no errors:\n  ${errors.join("\n  ")}`);
  }
  await context.close();
  return failures;
}

const { base, stop } = startServer();
let failures = 1;
let browser;
try {
  const url = await base;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Every host but the server's own resolves to nothing: the pages must not need the internet.
    args: ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-sandbox", "--disable-dev-shm-usage"],
  });
  console.log(`chromium ${browser.version()} against ${url}`);
  failures = await scenarios(browser, url);
} finally {
  await browser?.close();
  stop();
}
console.log(failures ? `${failures} failed` : `every scenario passed; screenshots in ${screenshots}`);
process.exit(failures ? 1 : 0);
