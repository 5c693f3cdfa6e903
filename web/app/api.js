// The client's only way to the server: the public GraphQL API at /graphql, with the operations of
// operations/app/client.graphql (split by the build, one request per operation).
import operations from "moments:operations";

const TOKEN_KEY = "moments.token";
const SIGNED_OUT_KEY = "moments.signedOut";
const settings = JSON.parse(document.getElementById("moments-settings")?.textContent || "{}");

/** The token to send: the one this browser signed in with, else the demo viewer's (unless this
 * tab signed out). */
export function token() {
  const demo = sessionStorage.getItem(SIGNED_OUT_KEY) ? null : settings.token;
  return localStorage.getItem(TOKEN_KEY) ?? demo ?? null;
}

export function signedIn(newToken) {
  localStorage.setItem(TOKEN_KEY, newToken);
  sessionStorage.removeItem(SIGNED_OUT_KEY);
}

export function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  sessionStorage.setItem(SIGNED_OUT_KEY, "1");
}

/** A refusal the server gave, with its code (BAD_USER_INPUT, PIN_TOO_OLD…). */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** Runs operation `name` with `variables`; its `data`, or an ApiError. */
export async function run(name, variables = {}) {
  const query = operations[name];
  if (!query) throw new Error(`no operation named ${name}`);
  const headers = { "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, operationName: name, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check your connection and try again.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL response.`, "HTTP");
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? "ERROR");
  }
  return body.data;
}
