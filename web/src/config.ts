// The app's runtime configuration, read from config.json beside index.html when
// the app starts: one build serves a local run (APIs on their own ports) and a
// deployment (both APIs behind the app's own origin).

export interface OidcConfig {
  /** The provider's issuer URL (its discovery document lives below it). */
  authority: string;
  client_id: string;
  /** Default "openid profile". */
  scope?: string;
  /** Default: the app's own address (origin and path, without the hash). */
  redirect_uri?: string;
  /** Which of the provider's tokens the APIs are sent: "access_token" (default) or "id_token". */
  api_token?: "access_token" | "id_token";
}

export interface AppConfig {
  /** Base URL of command-api; "" for the app's own origin. */
  commandApi: string;
  /** Base URL of query-api; "" for the app's own origin. */
  queryApi: string;
  /** OpenID Connect sign-in; absent in local runs (tokens are pasted or given in sign-in links). */
  oidc?: OidcConfig;
}

function base(url: unknown, name: string): string {
  if (url === undefined || url === null || url === "") return "";
  if (typeof url !== "string") throw new Error(`config.json: ${name} must be a string`);
  return url.replace(/\/+$/, "");
}

export function parseConfig(raw: unknown): AppConfig {
  if (typeof raw !== "object" || raw === null) throw new Error("config.json must hold an object");
  const r = raw as Record<string, unknown>;
  const config: AppConfig = { commandApi: base(r.commandApi, "commandApi"), queryApi: base(r.queryApi, "queryApi") };
  const oidc = r.oidc as Record<string, unknown> | undefined | null;
  if (oidc && typeof oidc === "object" && oidc.authority && oidc.client_id) {
    config.oidc = {
      authority: String(oidc.authority),
      client_id: String(oidc.client_id),
      scope: oidc.scope ? String(oidc.scope) : undefined,
      redirect_uri: oidc.redirect_uri ? String(oidc.redirect_uri) : undefined,
      api_token: oidc.api_token === "id_token" ? "id_token" : "access_token",
    };
  }
  return config;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status} ${response.statusText}`);
  return parseConfig(await response.json());
}
