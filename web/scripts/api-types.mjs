#!/usr/bin/env node
// Generates the API's types (src/api/command-api.ts, src/api/query-api.ts) from
// the OpenAPI documents the services serve, so a field exists once: in the Rust
// code that answers it.
//
//   node scripts/api-types.mjs [--check] <command-api URL> <query-api URL>
//
// With --check, writes nothing and fails when the committed files differ from
// what the running services document (the end-to-end run does this).
import { readFile, writeFile } from "node:fs/promises";
import openapiTS, { astToString } from "openapi-typescript";

const args = process.argv.slice(2);
const check = args[0] === "--check";
const [commandApi, queryApi] = check ? args.slice(1) : args;
if (!commandApi || !queryApi) {
  console.error("usage: api-types.mjs [--check] <command-api URL> <query-api URL>");
  process.exit(2);
}

let stale = 0;
for (const [name, base] of [
  ["command-api", commandApi],
  ["query-api", queryApi],
]) {
  const url = new URL("/openapi.json", base);
  const ast = await openapiTS(url);
  const text =
    `// Generated from ${name}'s OpenAPI document (GET /openapi.json) by\n` +
    `// scripts/api-types.mjs: do not edit; run \`npm run api:types -- <command-api URL> <query-api URL>\`.\n\n` +
    astToString(ast);
  const file = new URL(`../src/api/${name}.ts`, import.meta.url);
  if (check) {
    const have = await readFile(file, "utf8").catch(() => "");
    if (have !== text) {
      console.error(`src/api/${name}.ts differs from ${url}: run npm run api:types and review the change`);
      stale += 1;
    }
  } else {
    await writeFile(file, text);
    console.log(`wrote src/api/${name}.ts from ${url}`);
  }
}
process.exit(stale ? 1 : 0);
