// The playground at `/`: GraphiQL, bundled into the server with everything it loads (Monaco's
// workers, styles and font), so it works without any other origin. The server passes its settings
// in a JSON script tag: the demo viewer's token when this start loaded the demo world.
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { createClient } from "graphql-ws";
import "graphiql/style.css";
import "./playground.css";

const WORKERS = { graphql: "graphql.worker.js", json: "json.worker.js" };
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    return new Worker(new URL(WORKERS[label] ?? "editor.worker.js", document.baseURI + "playground/"));
  },
};

const settings = JSON.parse(document.getElementById("moments-settings")?.textContent || "{}");
const http = new URL("/graphql", location.href);
const ws = new URL(http);
ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";

// Subscriptions go over graphql-transport-ws; the token travels in `connection_init`, taken from
// the headers editor when the socket opens.
let headers = {};
const wsClient = createClient({ url: ws.href, lazy: true, connectionParams: () => ({ ...headers }) });
const fetch = createGraphiQLFetcher({ url: http.href, wsClient });
const fetcher = (params, options) => {
  headers = options?.headers ?? {};
  return fetch(params, options);
};

const defaultQuery = `# moments: a profile with pinned posts. The docs (the book icon) describe every type.
# ${settings.token ? `Signed in as @${settings.viewer}: press the run button.` : "Sign in with the signIn mutation, then put its token in Headers as {\"Authorization\": \"Bearer <token>\"}."}
query Profile {
  profile(handle: "${settings.viewer ?? "alice"}") {
    user { displayName handle isFriend }
    pinned { id kind text postedAt media { url } }
    timeline(first: 10, excludePinned: true) {
      nodes { id kind text postedAt isPinned }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`;

// The demo token replaces whatever headers an earlier visit kept: it is the one this start issued.
const token = settings.token ? { initialHeaders: JSON.stringify({ Authorization: `Bearer ${settings.token}` }, null, 2) } : {};

createRoot(document.getElementById("root")).render(
  <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} defaultEditorToolsVisibility={true} {...token} />,
);
