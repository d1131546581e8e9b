import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { configureApi } from "./api/client";
import { initAuth } from "./auth";
import { loadConfig } from "./config";
import { navigate } from "./router";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

async function start() {
  const config = await loadConfig();
  configureApi(config);
  const returnTo = await initAuth(config);
  if (returnTo) navigate(returnTo, true);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

start().catch((err: unknown) => {
  root.render(
    <main className="fatal">
      <h1>Projects Flow cannot start</h1>
      <p role="alert">{err instanceof Error ? err.message : String(err)}</p>
    </main>,
  );
});
