import { describe, expect, it } from "vitest";
import { parseConfig } from "./config";
import { href, parseHash } from "./router";

describe("config.json", () => {
  it("takes the APIs' base URLs without a trailing slash; empty means the app's origin", () => {
    expect(parseConfig({ commandApi: "http://127.0.0.1:8080/", queryApi: "http://127.0.0.1:8081" })).toEqual({
      commandApi: "http://127.0.0.1:8080",
      queryApi: "http://127.0.0.1:8081",
    });
    expect(parseConfig({})).toEqual({ commandApi: "", queryApi: "" });
  });

  it("has OpenID Connect only with an authority and a client id", () => {
    expect(parseConfig({ oidc: { authority: "https://id.example" } }).oidc).toBeUndefined();
    expect(parseConfig({ oidc: { authority: "https://id.example", client_id: "flow", api_token: "id_token" } }).oidc).toEqual({
      authority: "https://id.example",
      client_id: "flow",
      scope: undefined,
      redirect_uri: undefined,
      api_token: "id_token",
    });
  });

  it("refuses what is not an object", () => {
    expect(() => parseConfig(null)).toThrow();
    expect(() => parseConfig({ commandApi: 8080 })).toThrow(/commandApi/);
  });
});

describe("routes", () => {
  it("reads a path and its parameters from the hash", () => {
    const r = parseHash("#/projects/abc?type=COMMENT");
    expect(r.path).toBe("/projects/abc");
    expect(r.params.get("type")).toBe("COMMENT");
    expect(parseHash("").path).toBe("/");
  });

  it("writes repeated parameters and leaves out empty ones", () => {
    expect(href("/", { tag: ["a", "b c"], q: "", sort: undefined })).toBe("#/?tag=a&tag=b+c");
  });
});
