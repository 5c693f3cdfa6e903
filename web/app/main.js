// The reference web client at /app: a WeChat-style profile with its pinned block above the
// timeline, the feed, posting, and pinning, using only the public GraphQL API.
import { ApiError, run, signOut, signedIn, token } from "./api.js";
import { disconnect, watchProfile } from "./live.js";
import { h, link, momentCard } from "./view.js";
import "./app.css";

const PAGE = 10;
const PINNED_PAGE = 20;
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const status = document.getElementById("status");
let viewer = null;
let observer = null;
let stopWatching = null;

function say(message) {
  status.textContent = message;
}

function show(title, ...content) {
  document.title = `${title} · moments`;
  // A part the page does not have (no pinned block, say) is left out, not written as "null".
  main.replaceChildren(...content.filter((part) => part !== null && part !== undefined));
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function failure(error) {
  const message = error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
  return h("p", { class: "error", role: "alert" }, message);
}

function go(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const anchor = event.target.closest?.("a[data-link]");
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(anchor.getAttribute("href"));
});
addEventListener("popstate", () => route());

async function whoAmI() {
  if (!token()) return null;
  try {
    return (await run("Viewer")).viewer;
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") {
      signOut();
      return null;
    }
    throw error;
  }
}

function renderNav() {
  const items = viewer
    ? [
        link(`/app/u/${viewer.handle}`, "My profile"),
        link("/app/feed", "Feed"),
        link("/app/post", "Post"),
        h("form", { class: "visit", role: "search", onSubmit: visit },
          h("label", { for: "visit-handle", class: "visually-hidden" }, "Visit a profile by handle"),
          h("input", { id: "visit-handle", name: "handle", placeholder: "handle", autocomplete: "off", required: true }),
          h("button", { type: "submit" }, "Visit")),
        h("button", { type: "button", onClick: () => { signOut(); disconnect(); go("/app/signin"); } }, "Sign out"),
      ]
    : [link("/app/signin", "Sign in"), link("/app/signup", "Sign up")];
  nav.replaceChildren(h("a", { href: "/app", "data-link": true, class: "brand" }, "moments"), ...items);
}

function visit(event) {
  event.preventDefault();
  const handle = new FormData(event.target).get("handle").trim().replace(/^@/, "");
  if (handle) go(`/app/u/${encodeURIComponent(handle)}`);
}

async function route() {
  say("");
  stopWatching?.();
  stopWatching = null;
  const path = location.pathname.replace(/\/+$/, "") || "/app";
  try {
    viewer = await whoAmI();
  } catch (error) {
    show("Error", failure(error));
    return;
  }
  renderNav();
  if (path === "/app/signup") return signUpPage();
  if (!viewer) return signInPage();
  if (path === "/app/signin" || path === "/app") return go(`/app/u/${viewer.handle}`);
  if (path === "/app/feed") return feedPage();
  if (path === "/app/post") return postPage();
  const profile = path.match(/^\/app\/u\/([^/]+)$/);
  if (profile) return profilePage(decodeURIComponent(profile[1]));
  show("Not found", h("h1", {}, "Nothing here"), h("p", {}, link(`/app/u/${viewer.handle}`, "Back to your profile")));
}

function field(label, attributes) {
  const id = `field-${attributes.name}`;
  return h("p", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attributes }));
}

/** A form that signs in through `operation` (SignIn or SignUp) with its fields' values. */
function authForm(operation, submit, ...fields) {
  const error = h("div");
  const form = h(
    "form",
    { onSubmit: async (event) => {
      event.preventDefault();
      try {
        const data = await run(operation, Object.fromEntries(new FormData(form)));
        const { token: newToken, user } = operation === "SignIn" ? data.signIn : data.signUp;
        signedIn(newToken);
        go(`/app/u/${user.handle}`);
      } catch (e) {
        error.replaceChildren(failure(e));
      }
    } },
    ...fields,
    error,
    h("button", { type: "submit" }, submit),
  );
  return form;
}

function signInPage() {
  const form = authForm(
    "SignIn",
    "Sign in",
    field("Handle", { name: "handle", autocomplete: "username", required: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
  );
  show("Sign in", h("h1", {}, "Sign in"), form, h("p", {}, "New here? ", link("/app/signup", "Create an account")));
}

function signUpPage() {
  const form = authForm(
    "SignUp",
    "Sign up",
    field("Handle (3 to 32 of a–z, 0–9, _)", { name: "handle", autocomplete: "username", required: true, pattern: "[a-z0-9_]{3,32}" }),
    field("Display name", { name: "displayName", autocomplete: "name", required: true }),
    field("Password (at least 8 characters)", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
  );
  show("Sign up", h("h1", {}, "Create an account"), form, h("p", {}, "Have one? ", link("/app/signin", "Sign in")));
}

/**
 * A list that loads its next page when its end scrolls into view (or its button is pressed);
 * `watch: false` loads only on the button.
 */
function pagedList(
  label,
  first,
  loadMore,
  cardOptions,
  { watch = true, moreLabel = "Show older moments", endText = "No older moments.", emptyText = "No moments to show." } = {},
) {
  const list = h("ol", { class: "moments", "aria-label": label });
  const more = h("button", { type: "button", class: "more" }, moreLabel);
  const end = h("p", { class: "end" });
  let cursor = first.pageInfo.endCursor;
  let loading = false;
  const add = (nodes) => list.append(...nodes.map((m) => h("li", {}, momentCard(m, cardOptions))));
  const finish = (pageInfo) => {
    cursor = pageInfo.endCursor;
    more.hidden = !pageInfo.hasNextPage;
    end.textContent = pageInfo.hasNextPage ? "" : list.children.length ? endText : emptyText;
  };
  const next = async () => {
    if (loading || more.hidden) return;
    loading = true;
    more.disabled = true;
    try {
      const page = await loadMore(cursor);
      add(page.nodes);
      finish(page.pageInfo);
    } catch (error) {
      end.replaceChildren(failure(error));
    } finally {
      loading = false;
      more.disabled = false;
    }
  };
  more.addEventListener("click", next);
  add(first.nodes);
  finish(first.pageInfo);
  if (watch) {
    // One list watches at a time: the page's newest.
    observer?.disconnect();
    observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && next(), { rootMargin: "400px" });
    observer.observe(more);
  }
  return h("div", {}, list, more, end);
}

async function profilePage(handle) {
  show("Profile", h("p", { class: "loading" }, "Loading…"));
  let profile;
  try {
    profile = (await run("Profile", { handle, first: PAGE, pinnedFirst: PINNED_PAGE })).profile;
  } catch (error) {
    return show("Profile", h("h1", {}, `@${handle}`), failure(error));
  }
  if (!profile) return show("Profile", h("h1", {}, `@${handle}`), h("p", {}, "No user has this handle."));
  const user = profile.user;
  const actions = user.isViewer ? ownActions(handle) : null;
  const relation = user.isViewer ? "You" : user.isFriend ? "Friend" : "Not a friend";
  const header = h(
    "header",
    { class: "profile-header" },
    h("div", { class: "cover", "aria-hidden": "true" }),
    h("div", { class: "avatar", "aria-hidden": "true" }, [...user.displayName][0] ?? "?"),
    h("h1", {}, user.displayName),
    h("p", { class: "who" }, h("span", { class: "handle" }, `@${user.handle}`), " · ", h("span", { class: "relation" }, relation)),
  );
  const pinned = profile.pinnedConnection.nodes.length
    ? h("section", { class: "pinned-block", "aria-labelledby": "pinned-title" },
        h("h2", { id: "pinned-title" }, "Pinned"),
        pagedList("Pinned moments", profile.pinnedConnection,
          async (after) => (await run("Pinned", { handle, first: PINNED_PAGE, after })).profile.pinnedConnection,
          { actions }, { watch: false, moreLabel: "Show more pinned moments", endText: "" }))
    : null;
  const timeline = h(
    "section",
    { class: "timeline", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Moments"),
    pagedList("Timeline", profile.timeline, async (after) => (await run("Timeline", { handle, first: PAGE, after })).profile.timeline, { actions }),
  );
  show(user.displayName, header, pinned, timeline);
  stopWatching?.();
  // A stranger's timeline holds only the ten newest public moments: a new or deleted one moves
  // that line, which only the server knows, so the page is read again.
  const capped = !user.isViewer && !user.isFriend;
  stopWatching = watchProfile(handle, (event) => (capped ? profilePage(handle) : applyEvent(event, handle, actions)));
}

/** A card in a list sorted newest first: placed before the first older one, or at the end when the
 * list is complete (`complete`), else left for a later page. */
function place(list, moment, options, complete) {
  const card = h("li", {}, momentCard(moment, options));
  const older = [...list.children].find((li) => li.firstChild.dataset.posted < moment.postedAt);
  if (older) list.insertBefore(card, older);
  else if (complete) list.append(card);
}

/** Takes the cards of a moment off the page. */
function removeCards(momentId) {
  for (const stale of main.querySelectorAll(`.moment[data-id="${CSS.escape(momentId)}"]`)) {
    stale.closest("li").remove();
  }
}

/** Applies a live change to the profile page on screen, in place. */
async function applyEvent(event, handle, actions) {
  if (event.kind === "REMOVED" && event.momentId) {
    removeCards(event.momentId);
    if (!main.querySelector(".pinned-block ol")?.children.length) main.querySelector(".pinned-block")?.remove();
    return say("A moment was deleted.");
  }
  // RESYNC and VIEW_CHANGED: what the viewer may see changed as a whole, or changes were missed.
  if (!event.moment) {
    return profilePage(handle);
  }
  removeCards(event.momentId);
  const pinnedList = main.querySelector(".pinned-block ol");
  const timelineList = main.querySelector(".timeline ol");
  // A list is complete when it has no more pages to load.
  const complete = (section) => main.querySelector(`.${section} .more`)?.hidden ?? true;
  if (event.moment.isPinned) {
    if (!pinnedList) return profilePage(handle);
    place(pinnedList, event.moment, { actions }, complete("pinned-block"));
  } else if (timelineList) {
    place(timelineList, event.moment, { actions }, complete("timeline"));
  }
  if (pinnedList && !pinnedList.children.length) main.querySelector(".pinned-block")?.remove();
  say(event.kind === "PINNED" ? "A moment was pinned." : event.kind === "UNPINNED" ? "A moment was unpinned." : "A new moment.");
}

/** What the viewer may do to the moments of their own profile. */
function ownActions(handle) {
  return { pin: (m) => change("Pin", m, handle), unpin: (m) => change("Unpin", m, handle) };
}

/** What pinning and unpinning say, and the live event their answer stands for. */
const CHANGES = {
  Pin: { field: "pin", kind: "PINNED", busy: "Pinning…", done: "Pinned to the top of your profile." },
  Unpin: { field: "unpin", kind: "UNPINNED", busy: "Unpinning…", done: "Unpinned." },
};

async function change(operation, moment, handle) {
  const { field, kind, busy, done } = CHANGES[operation];
  say(busy);
  let changed;
  try {
    changed = (await run(operation, { id: moment.id }))[field].moment;
  } catch (error) {
    say(error.message);
    return;
  }
  // The answer is the moment as it is now: applied in place, as the live event (which may come
  // before or after it) is; applying it twice changes nothing.
  await applyEvent({ kind, momentId: changed.id, moment: changed }, handle, ownActions(handle));
  say(done);
}

async function feedPage() {
  show("Feed", h("p", { class: "loading" }, "Loading…"));
  try {
    const { feed } = await run("Feed", { first: PAGE });
    show("Feed", h("h1", {}, "Feed"), h("p", { class: "hint" }, "Your moments and your friends', newest first."),
      pagedList("Feed", feed, async (after) => (await run("Feed", { first: PAGE, after })).feed, { showAuthor: true, showPin: false }));
  } catch (error) {
    show("Feed", h("h1", {}, "Feed"), failure(error));
  }
}

async function postPage() {
  let choices = { friends: [], tags: [] };
  try {
    choices = (await run("AudienceChoices")).viewer;
  } catch (error) {
    say(error.message);
  }
  const error = h("div");
  const lists = h(
    "fieldset",
    { class: "names", hidden: true },
    h("legend", {}, "Friends and tags"),
    choices.friends.length || choices.tags.length ? null : h("p", {}, "You have no friends or tags to name yet."),
    choices.friends.map((f) => h("label", {}, h("input", { type: "checkbox", name: "userIds", value: f.id }), ` ${f.displayName} (@${f.handle})`)),
    choices.tags.map((t) => h("label", {}, h("input", { type: "checkbox", name: "tagIds", value: t.id }), ` #${t.name}`)),
  );
  const mode = h(
    "select",
    { id: "field-audience", name: "mode", onChange: () => (lists.hidden = !["INCLUDE", "EXCLUDE"].includes(mode.value)) },
    h("option", { value: "PUBLIC" }, "All friends"),
    h("option", { value: "PRIVATE" }, "Only me"),
    h("option", { value: "INCLUDE" }, "Only some friends…"),
    h("option", { value: "EXCLUDE" }, "All friends except…"),
  );
  const form = h(
    "form",
    { class: "post", onSubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const urls = String(data.get("images")).split(/\s+/).filter(Boolean);
      const input = { text: data.get("text") || null, audience: { mode: mode.value } };
      if (urls.length) input.images = urls.map((url) => ({ url }));
      if (["INCLUDE", "EXCLUDE"].includes(mode.value)) {
        input.audience.userIds = data.getAll("userIds");
        input.audience.tagIds = data.getAll("tagIds");
      }
      try {
        await run("PostMoment", { input });
        go(`/app/u/${viewer.handle}`);
        say("Posted.");
      } catch (e) {
        error.replaceChildren(failure(e));
      }
    } },
    h("p", { class: "field" }, h("label", { for: "field-text" }, "Text"), h("textarea", { id: "field-text", name: "text", rows: 4, maxlength: 2000 })),
    h("p", { class: "field" }, h("label", { for: "field-images" }, "Picture URLs (up to nine, one per line)"), h("textarea", { id: "field-images", name: "images", rows: 3, placeholder: "https://…" })),
    h("p", { class: "field" }, h("label", { for: "field-audience" }, "Who can see it"), mode),
    lists,
    error,
    h("button", { type: "submit" }, "Post"),
  );
  show("Post", h("h1", {}, "Post a moment"), form);
}

route();
