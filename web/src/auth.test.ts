import { describe, expect, it } from "vitest";
import { decodeClaims, isModerator, sessionFromToken } from "./auth";

const b64 = (v: unknown) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(v)))).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const jwt = (claims: unknown) => `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.signature`;
const now = Date.UTC(2030, 0, 1);
const later = now / 1000 + 3600;

describe("tokens", () => {
  it("reads the user, display name and roles of a token", () => {
    const s = sessionFromToken(` ${jwt({ sub: "mod", name: "Mo Derator", roles: ["moderator", 7], exp: later })}\n`, "token", now);
    expect(s).toMatchObject({ userId: "mod", name: "Mo Derator", roles: ["moderator"], expiresAt: later * 1000, via: "token" });
    expect(s.token).not.toMatch(/\s/);
    expect(isModerator(s)).toBe(true);
    expect(isModerator(sessionFromToken(jwt({ sub: "bob", exp: later }), "token", now))).toBe(false);
  });

  it("keeps names outside ASCII", () => {
    expect(sessionFromToken(jwt({ sub: "z", name: "Zoë Ørsted", exp: later }), "token", now).name).toBe("Zoë Ørsted");
  });

  it("refuses what is not a usable token, saying why", () => {
    expect(() => decodeClaims("not a token")).toThrow(/three parts/);
    expect(() => decodeClaims("a.b.c")).toThrow(/cannot be read/);
    expect(() => sessionFromToken(jwt({ exp: later }), "token", now)).toThrow(/no user/);
    expect(() => sessionFromToken(jwt({ sub: "bob", exp: now / 1000 - 1 }), "token", now)).toThrow(/expired/);
  });

  it("takes a provider's profile name when its token has none", () => {
    expect(sessionFromToken(jwt({ sub: "u1", exp: later }), "oidc", now, "From Profile").name).toBe("From Profile");
  });
});
