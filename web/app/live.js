// Live changes over graphql-transport-ws (the graphql-ws client): a profile page applies its
// author's pins, unpins, new and deleted moments as they happen, and reloads when what the viewer
// may see changes as a whole. The server checks each event against the viewer's rights when
// it delivers it.
import { createClient } from "graphql-ws";
import operations from "moments:operations";
import { token } from "./api.js";

let client = null;

function connection() {
  if (!client) {
    const url = new URL("/graphql", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    client = createClient({
      url: url.href,
      lazy: true,
      retryAttempts: 5,
      connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    });
  }
  return client;
}

/** Closes the connection (when the user signs out: the next one signs in anew). */
export function disconnect() {
  client?.dispose();
  client = null;
}

/** Calls `onEvent(profileChanged)` for each change to `handle`'s profile; returns the way to stop. */
export function watchProfile(handle, onEvent) {
  return connection().subscribe(
    { query: operations.ProfileChanged, operationName: "ProfileChanged", variables: { handle } },
    {
      next: ({ data }) => data?.profileChanged && onEvent(data.profileChanged),
      error: () => {},
      complete: () => {},
    },
  );
}
