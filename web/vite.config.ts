/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The API addresses are not built in: the app reads config.json when it starts
// (see README, "The app"), so one build serves every environment. The dev
// server (npm run dev) serves FLOW_WEB_CONFIG as config.json when it is set,
// as web/serve.mjs does (./dev run writes .run/web-config.json).
function runtimeConfig(): Plugin {
  return {
    name: "flow-runtime-config",
    configureServer(server) {
      const file = process.env.FLOW_WEB_CONFIG;
      if (!file) return;
      server.middlewares.use("/config.json", (_req, res) => {
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-store");
        res.end(readFileSync(file));
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), runtimeConfig()],
  base: "./",
  build: { target: "es2022", sourcemap: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
