// Who is signed in. The APIs check the tokens; the app only reads their claims
// to show a name and the screens a role allows.
//
// Local runs: a token is pasted, or given in a sign-in link (#/sign-in?token=...),
// and kept in sessionStorage (gone when the tab closes). Deployments: OpenID
// Connect, authorization code with PKCE (oidc-client-ts), when config.json
// names a provider.
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { AppConfig } from "./config";

export interface Session {
  token: string;
  userId: string;
  name: string | null;
  roles: string[];
  /** Milliseconds since the epoch, when the token has an exp claim. */
  expiresAt: number | null;
  via: "token" | "oidc";
}

export interface Claims {
  sub?: unknown;
  name?: unknown;
  roles?: unknown;
  exp?: unknown;
}

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims of a JWT, unverified (the APIs verify it); throws when it is no JWT. */
export function decodeClaims(token: string): Claims {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) throw new Error("This is not a token: a token has three parts separated by dots.");
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1])) as unknown;
    if (typeof claims !== "object" || claims === null) throw new Error();
    return claims as Claims;
  } catch {
    throw new Error("This is not a token: its claims cannot be read.");
  }
}

/** A session from a token's claims; throws with a message for the user when it cannot be used. */
export function sessionFromToken(token: string, via: Session["via"], now = Date.now(), fallbackName?: string): Session {
  const trimmed = token.trim();
  const claims = decodeClaims(trimmed);
  if (typeof claims.sub !== "string" || claims.sub === "") throw new Error("This token names no user (no sub claim).");
  const expiresAt = typeof claims.exp === "number" ? claims.exp * 1000 : null;
  if (expiresAt !== null && expiresAt <= now) throw new Error("This token has expired: ask for a new one.");
  return {
    token: trimmed,
    userId: claims.sub,
    name: typeof claims.name === "string" ? claims.name : (fallbackName ?? null),
    roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [],
    expiresAt,
    via,
  };
}

export const isModerator = (s: Session | null): boolean => !!s && s.roles.includes("moderator");

// ------------------------------------------------------------------ the store

const TOKEN_KEY = "flow.token";
type Listener = () => void;
let current: Session | null = null;
let notice: string | null = null;
const listeners = new Set<Listener>();
let userManager: UserManager | null = null;
let apiToken: "access_token" | "id_token" = "access_token";

function emit() {
  for (const l of listeners) l();
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const getSession = (): Session | null => current;
/** A message for the sign-in screen (why the user was signed out). */
export const getNotice = (): string | null => notice;

/** Signs in with a pasted token or a sign-in link's token; throws when it cannot be used. */
export function signInWithToken(token: string): Session {
  const session = sessionFromToken(token, "token");
  sessionStorage.setItem(TOKEN_KEY, session.token);
  current = session;
  notice = null;
  emit();
  return session;
}

/** Forgets the session (and, with a provider, the provider's user in this tab). */
export async function signOut(why?: string): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  const via = current?.via;
  current = null;
  notice = why ?? null;
  emit();
  if (via === "oidc" && userManager) await userManager.removeUser();
}

function sessionFromUser(user: User): Session | null {
  const token = apiToken === "id_token" ? user.id_token : user.access_token;
  if (!token) return null;
  try {
    const profileName = typeof user.profile.name === "string" ? user.profile.name : undefined;
    return sessionFromToken(token, "oidc", Date.now(), profileName);
  } catch {
    return null;
  }
}

/** Starts the provider's sign-in: the browser goes to the provider and comes back with a code. */
export async function signInWithProvider(returnTo: string): Promise<void> {
  if (!userManager) throw new Error("No OpenID Connect provider is configured.");
  await userManager.signinRedirect({ state: { returnTo } });
}

export const providerConfigured = (): boolean => userManager !== null;

/**
 * Restores the session when the app starts: finishes a provider's redirect
 * (?code=...&state=... in the address), or reads the tab's stored token or
 * provider user. Returns where to go after a completed provider sign-in.
 */
export async function initAuth(config: AppConfig): Promise<string | null> {
  let returnTo: string | null = null;
  if (config.oidc) {
    const here = window.location.origin + window.location.pathname;
    apiToken = config.oidc.api_token ?? "access_token";
    userManager = new UserManager({
      authority: config.oidc.authority,
      client_id: config.oidc.client_id,
      redirect_uri: config.oidc.redirect_uri ?? here,
      post_logout_redirect_uri: here,
      scope: config.oidc.scope ?? "openid profile",
      response_type: "code",
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      automaticSilentRenew: true,
    });
    userManager.events.addUserLoaded((user) => {
      const session = sessionFromUser(user);
      if (session) {
        current = session;
        emit();
      }
    });
    userManager.events.addAccessTokenExpired(() => void signOut("Your session has ended: sign in again."));
    const params = new URLSearchParams(window.location.search);
    if (params.has("code") && params.has("state")) {
      try {
        const user = await userManager.signinRedirectCallback();
        const state = user.state as { returnTo?: string } | undefined;
        returnTo = state?.returnTo ?? "#/";
      } catch (err) {
        notice = `Signing in with the provider failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      // The code is single-use: take it out of the address.
      window.history.replaceState(null, "", window.location.pathname + (returnTo ?? "#/sign-in"));
    }
    const user = await userManager.getUser();
    if (user && !user.expired) current = sessionFromUser(user);
  }
  if (!current) {
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) {
      try {
        current = sessionFromToken(stored, "token");
      } catch {
        sessionStorage.removeItem(TOKEN_KEY);
        notice = "Your token has expired: sign in again.";
      }
    }
  }
  emit();
  return returnTo;
}
