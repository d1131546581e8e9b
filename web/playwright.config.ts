import { defineConfig } from "@playwright/test";

// Run by e2e/run, which starts the stack and sets FLOW_E2E_* (the app's
// address, the APIs' and the users' tokens). The browser is Debian's
// Chromium: Playwright downloads none.
export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/results/artifacts",
  // The journeys share one stack on a small machine: one browser at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  // Debug builds and an automatic moderator that decides asynchronously.
  expect: { timeout: 15_000 },
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: process.env.FLOW_E2E_APP,
    browserName: "chromium",
    viewport: { width: 1100, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.FLOW_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
});
