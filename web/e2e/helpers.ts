import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, type Page } from "@playwright/test";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with web/e2e/run`);
  return value;
}

export const users = {
  alice: { name: "Alice", token: () => env("FLOW_E2E_ALICE") },
  bob: { name: "Bob", token: () => env("FLOW_E2E_BOB") },
  mod: { name: "Mo", token: () => env("FLOW_E2E_MOD") },
};
export type Who = keyof typeof users;

/** Signs in with a sign-in link, as ./dev run prints them, and waits until the app says who is signed in. */
export async function signIn(page: Page, who: Who, next = "/"): Promise<void> {
  await page.goto(`/#/sign-in?token=${users[who].token()}&next=${encodeURIComponent(next)}`);
  await expect(page.getByRole("banner").getByText(users[who].name, { exact: true })).toBeVisible();
  await expect(page).not.toHaveURL(/token=/);
}

/** Proposes a project straight through command-api (for tests about something else). */
export async function proposeByApi(who: Who, body: { project_name: string; tagline: string; tags?: string[]; problems: string[]; solutions: string[] }): Promise<string> {
  const response = await fetch(`${env("FLOW_E2E_COMMAND_API")}/projects/propose`, {
    method: "POST",
    headers: { Authorization: `Bearer ${users[who].token()}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { project_id: string }).project_id;
}

const shots = resolve(process.env.FLOW_SCREENSHOTS ?? join(import.meta.dirname, "results", "screenshots"));

/** A screenshot of the page as it is, for the README (FLOW_SCREENSHOTS=docs/screenshots). */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(shots, { recursive: true });
  // Nothing blinks in a screenshot: no focus ring, no caret.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage, animations: "disabled", caret: "hide" });
}
