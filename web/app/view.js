// Building the page: a small element helper and how a moment is shown.

/** An element with attributes (`on…` become listeners) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A link inside the client, followed without reloading the page. */
export function link(path, ...children) {
  return h("a", { href: path, "data-link": true }, ...children);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "5 minutes ago", "3 days ago", or the date for older moments. */
function when(iso) {
  const at = new Date(iso);
  const ago = Date.now() - at.getTime();
  if (ago < MINUTE) return "just now";
  if (ago < HOUR) return plural(Math.floor(ago / MINUTE), "minute") + " ago";
  if (ago < DAY) return plural(Math.floor(ago / HOUR), "hour") + " ago";
  if (ago < 30 * DAY) return plural(Math.floor(ago / DAY), "day") + " ago";
  return at.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Why a moment cannot be pinned, as the author reads it. */
const PIN_REASONS = {
  NOT_AUTHOR: "Only the author can pin a moment.",
  UNSUPPORTED_KIND: "Text and articles cannot be pinned: only pictures and videos can.",
  TOO_OLD: "Posted more than six months ago: too old to pin.",
  ALREADY_PINNED: "Already pinned.",
  LIMIT_REACHED: "You have pinned as many moments as this server allows: unpin one first.",
  PINNING_NOT_ENABLED: "Pinning is not available to you yet.",
};

const AUDIENCE = {
  PUBLIC: "All friends",
  PRIVATE: "Only me",
  INCLUDE: "Only",
  EXCLUDE: "All friends except",
};

function audienceText(audience) {
  const names = [
    ...audience.users.map((u) => `@${u.handle}`),
    ...audience.tags.map((t) => `#${t.name}`),
  ];
  return names.length ? `${AUDIENCE[audience.mode]} ${names.join(", ")}` : AUDIENCE[audience.mode];
}

function pictures(moment) {
  const n = moment.media.length;
  const who = moment.author.displayName;
  const about = moment.text ? `: ${moment.text.length > 80 ? moment.text.slice(0, 77) + "…" : moment.text}` : "";
  return h(
    "div",
    { class: `grid grid-${n}` },
    moment.media.map((m, i) =>
      h("img", {
        src: m.url,
        alt: `Picture ${i + 1} of ${n} by ${who}${about}`,
        loading: "lazy",
        width: m.width,
        height: m.height,
      }),
    ),
  );
}

function video(moment) {
  const [clip] = moment.media;
  return h(
    "figure",
    { class: "video" },
    h("video", { src: clip.url, controls: true, preload: "none", width: clip.width, height: clip.height, "aria-label": `Video by ${moment.author.displayName}` }),
    h("figcaption", {}, h("a", { href: clip.url, rel: "noopener noreferrer" }, "Open the video")),
  );
}

function article(moment) {
  let host = "";
  try {
    host = new URL(moment.article.url).host;
  } catch {}
  return h(
    "a",
    { class: "article", href: moment.article.url, rel: "noopener noreferrer" },
    h("span", { class: "article-title" }, moment.article.title),
    h("span", { class: "article-host" }, host),
  );
}

/**
 * One moment. `actions.pin(moment)` and `actions.unpin(moment)` are offered on the viewer's own
 * moments; when pinning is not possible, the reasons are shown instead of a button. The feed shows
 * no pin (`showPin: false`): pins play no part there.
 */
export function momentCard(moment, { showAuthor = false, showPin = true, actions = null } = {}) {
  const body = [];
  if (moment.text) body.push(h("p", { class: "text" }, moment.text));
  if (moment.kind === "IMAGES") body.push(pictures(moment));
  if (moment.kind === "VIDEO") body.push(video(moment));
  if (moment.kind === "ARTICLE" && moment.article) body.push(article(moment));
  const posted = when(moment.postedAt);
  const meta = [h("time", { datetime: moment.postedAt, title: new Date(moment.postedAt).toLocaleString() }, posted)];
  if (moment.audience) meta.push(h("span", { class: "audience" }, `Visible to: ${audienceText(moment.audience)}`));
  const controls = [];
  if (actions && moment.author.isViewer) {
    if (moment.isPinned) {
      controls.push(h("button", { type: "button", class: "unpin", onClick: () => actions.unpin(moment) }, "Unpin"));
    } else if (moment.viewerCanPin) {
      controls.push(h("button", { type: "button", class: "pin", onClick: () => actions.pin(moment) }, "Pin to top"));
    } else {
      const reasons = moment.viewerCannotPinReasons.filter((r) => r !== "NOT_AUTHOR");
      controls.push(
        h("p", { class: "cannot-pin" }, "Cannot pin: ", reasons.map((r) => PIN_REASONS[r] ?? r).join(" ")),
      );
    }
  }
  const pinned = showPin && moment.isPinned;
  const label = pinned ? "Pinned moment" : "Moment";
  return h(
    "article",
    { class: `moment${pinned ? " pinned" : ""}`, "data-id": moment.id, "data-posted": moment.postedAt, "aria-label": `${label} by ${moment.author.displayName}, ${posted}` },
    showAuthor ? h("header", {}, link(`/app/u/${moment.author.handle}`, h("strong", {}, moment.author.displayName)), " ", h("span", { class: "handle" }, `@${moment.author.handle}`)) : null,
    pinned ? h("span", { class: "pin-mark" }, "Pinned") : null,
    body,
    h("footer", {}, meta, controls),
  );
}
