// Bundles the browser side into OUT (production builds, minified): the playground (GraphiQL with
// Monaco's workers, styles and font) under OUT/playground and the web client under OUT/app, whose
// GraphQL operations come from OPERATIONS/client.graphql, one request text per operation.
// usage: node build.mjs OUT NODE_MODULES OPERATIONS
// The server embeds every file of OUT (build.rs runs this; node_modules come from `npm ci`).
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [out, modules, operations] = process.argv.slice(2).map((p) => resolve(p));
if (!out || !modules || !operations) {
  console.error("usage: node build.mjs OUT NODE_MODULES OPERATIONS");
  process.exit(2);
}
const esbuild = await import(pathToFileURL(join(modules, "esbuild/lib/main.js")).href);
const graphql = await import(pathToFileURL(join(modules, "graphql/index.mjs")).href);

rmSync(out, { recursive: true, force: true });

const common = {
  bundle: true,
  minify: true,
  nodePaths: [modules],
  legalComments: "none",
  logLevel: "warning",
  target: ["es2022"],
  define: { "process.env.NODE_ENV": '"production"' },
  // Same input, same bytes: names carry no hashes and no absolute paths.
  assetNames: "[name]",
  absWorkingDir: here,
};

await esbuild.build({
  ...common,
  entryPoints: { playground: join(here, "playground/main.jsx") },
  outdir: join(out, "playground"),
  format: "esm",
  jsx: "automatic",
  loader: { ".ttf": "file" },
});

const workers = {
  "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
  "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
  "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
};
await esbuild.build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(workers).map(([name, entry]) => [name, join(modules, entry)])),
  outdir: join(out, "playground"),
  format: "iife",
});

/** `{ name: text }` for every operation of the document, each with the fragments it uses. */
function splitOperations(file) {
  const document = graphql.parse(readFileSync(file, "utf8"));
  const fragments = new Map(
    document.definitions.filter((d) => d.kind === "FragmentDefinition").map((d) => [d.name.value, d]),
  );
  const spreads = (node, found) => {
    graphql.visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (!found.has(name)) {
          found.add(name);
          spreads(fragments.get(name), found);
        }
      },
    });
    return found;
  };
  const texts = {};
  for (const definition of document.definitions) {
    if (definition.kind !== "OperationDefinition") continue;
    const used = [...spreads(definition, new Set())].sort().map((name) => fragments.get(name));
    texts[definition.name.value] = [definition, ...used].map((d) => graphql.print(d)).join("\n");
  }
  return texts;
}

const operationsPlugin = {
  name: "moments-operations",
  setup(build) {
    build.onResolve({ filter: /^moments:operations$/ }, () => ({ path: "operations", namespace: "moments" }));
    build.onLoad({ filter: /.*/, namespace: "moments" }, () => {
      const file = join(operations, "client.graphql");
      return { contents: JSON.stringify(splitOperations(file)), loader: "json", watchFiles: [file] };
    });
  },
};

await esbuild.build({
  ...common,
  entryPoints: { app: join(here, "app/main.js") },
  outdir: join(out, "app"),
  format: "esm",
  plugins: [operationsPlugin],
});
