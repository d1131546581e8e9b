#!/usr/bin/env node
// A small static server for the built app (dist/), for local runs and the
// end-to-end tests; deployments use nginx (deploy/web/). Serves /config.json
// from FLOW_WEB_CONFIG when set (the APIs' addresses, OpenID Connect settings).
//
//   FLOW_WEB_ADDR=127.0.0.1:5173 FLOW_WEB_CONFIG=path/to/config.json node serve.mjs
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(process.env.FLOW_WEB_ROOT ?? fileURLToPath(new URL("./dist", import.meta.url)));
const [host, port] = (process.env.FLOW_WEB_ADDR ?? "127.0.0.1:5173").split(/:(?=\d+$)/);
const configFile = process.env.FLOW_WEB_CONFIG;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

const server = createServer(async (req, res) => {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  const headers = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };
  try {
    if (path === "/config.json" && configFile) {
      const body = await readFile(configFile);
      res.writeHead(200, { ...headers, "Content-Type": TYPES[".json"], "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) throw Object.assign(new Error("outside"), { code: "ENOENT" });
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      file = join(file, "index.html");
      info = await stat(file).catch(() => null);
    }
    if (!info) {
      res.writeHead(404, { ...headers, "Content-Type": TYPES[".txt"] }).end("not found\n");
      return;
    }
    // Hashed assets never change; everything else is checked again each time.
    const cache = path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": info.size,
      "Cache-Control": cache,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  } catch (err) {
    console.error(`serve: ${req.method} ${path}: ${err}`);
    if (!res.headersSent) res.writeHead(500, headers);
    res.end();
  }
});

server.listen(Number(port), host, () => {
  console.log(`serving ${root} on http://${host}:${port}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
