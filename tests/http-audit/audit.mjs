// GraphQL-over-HTTP conformance audit (graphql-http's auditServer) of one GraphQL endpoint.
// usage: node tests/http-audit/audit.mjs http://127.0.0.1:8123/graphql
// Prints one line per audit (status, id, name, and the reason and response of a failure), then a
// count per status. Exits 1 when a MUST (error) or SHOULD (warn) audit fails; MAY audits that fail
// are printed as notices and do not fail the run. Exits 2 when the audit itself cannot run.
// bash tests/http-audit/run.sh starts a server and runs this against it.
import { auditServer } from 'graphql-http';

// Longest a single audit request may take: a hung server fails the run instead of hanging CI.
const REQUEST_TIMEOUT_MS = Number(process.env.AUDIT_REQUEST_TIMEOUT_MS || 30000);
const BODY_SNIPPET_CHARS = 300;
const STATUSES = ['ok', 'notice', 'warn', 'error'];

if (typeof fetch !== 'function') {
  console.error(`node ${process.version} has no global fetch; node 18 or later is needed`);
  process.exit(2);
}

const url = process.argv[2];
if (!url || process.argv.length > 3) {
  console.error('usage: node audit.mjs GRAPHQL_URL   (e.g. http://127.0.0.1:8123/graphql)');
  process.exit(2);
}
try {
  new URL(url);
} catch {
  console.error(`not a URL: ${url}`);
  process.exit(2);
}

// The global fetch (Node 18+), with a deadline on every request.
const fetchFn = (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

// What the server answered, for a failed audit: status, content type and the start of the body.
// The audit may already have read the body, in which case only the status line is shown.
async function describe(response) {
  if (!response || typeof response.status !== 'number') return '';
  const type = response.headers?.get('content-type') ?? '(no content-type)';
  let body = '';
  try {
    if (!response.bodyUsed) {
      const text = await response.text();
      body = text.length > BODY_SNIPPET_CHARS ? `${text.slice(0, BODY_SNIPPET_CHARS)}…` : text;
      body = ` ${JSON.stringify(body)}`;
    }
  } catch {
    // an unreadable body is reported without it
  }
  return `HTTP ${response.status} ${type}${body}`;
}

let results;
try {
  results = await auditServer({ url, fetchFn });
} catch (err) {
  // graphql-http rethrows anything that is not a failed assertion: the server could not be reached,
  // a request timed out, and the like.
  console.error(`the audit could not run against ${url}: ${err?.stack ?? err}`);
  if (err?.cause) console.error(`cause: ${err.cause?.stack ?? err.cause}`);
  process.exit(2);
}

const counts = Object.fromEntries(STATUSES.map((status) => [status, 0]));
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  const head = `${result.status.toUpperCase().padEnd(6)} ${result.id}  ${result.name}`;
  if (result.status === 'ok') {
    console.log(head);
  } else {
    const response = await describe(result.response);
    console.log(`${head}\n         reason: ${result.reason}${response ? `\n         response: ${response}` : ''}`);
  }
}

const failed = counts.error + counts.warn;
console.log(
  `\n${results.length} audits against ${url}: ` +
    `${counts.ok} ok, ${counts.error} error (MUST), ${counts.warn} warn (SHOULD), ${counts.notice} notice (MAY)`,
);
if (failed > 0) {
  console.log(`FAILED: ${counts.error} MUST and ${counts.warn} SHOULD audits fail`);
  process.exit(1);
}
console.log('PASSED: every MUST and SHOULD audit passes');
