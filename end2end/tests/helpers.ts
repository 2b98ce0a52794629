import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { expect } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");

/** Where `invite` writes: a portal's data directory and the URL its links should name. */
export interface Server {
  url: string;
  dataDir: string;
  /** More configuration for `invite` (a shared database's DATABASE_URL, say). */
  env?: Record<string, string>;
}

/** The portal global-setup started for the whole suite. */
export function sharedServer(): Server {
  return { url: process.env.PORTAL_URL!, dataDir: process.env.PORTAL_DATA_DIR! };
}

/** Runs `client-portal invite` against a test server's data and returns the printed link. */
export function invite(
  portal: string,
  email: string,
  name?: string,
  server: Server = sharedServer(),
  role?: "admin" | "member" | "requester",
): string {
  const args = ["invite", "--portal", portal, "--email", email];
  if (name) args.push("--name", name);
  if (role) args.push("--role", role);
  const out = execFileSync(process.env.PORTAL_BINARY!, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: server.dataDir,
      PORTAL_PUBLIC_URL: server.url,
      RUST_LOG: "warn",
      ...server.env,
    },
  }).toString();
  const lines = out.trim().split("\n");
  return lines[lines.length - 1];
}

/** Signs `page` in through a fresh invite link and lands on the dashboard. */
export async function signIn(
  page: Page,
  portal: string,
  email: string,
  name?: string,
  server?: Server,
  role?: "admin" | "member" | "requester",
) {
  const link = invite(portal, email, name, server, role);
  await page.goto(link);
  await page.getByRole("button", { name: `Continue as ${email.toLowerCase()}` }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Your tickets" })).toBeVisible();
}

let counter = 0;
/** A portal id no other test uses. */
export function freshPortal(prefix = "e2e"): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}`;
}

/** Raises a ticket through the new-ticket dialog and waits until monday has it (no delivery badge). */
export async function raiseTicket(page: Page, title: string, deliveredWithin = 10_000) {
  await page.getByRole("main").getByRole("link", { name: "New ticket" }).click();
  const dialog = page.getByRole("dialog", { name: "New ticket" });
  await dialog.getByLabel("Title").fill(title);
  await dialog.getByRole("button", { name: "Create ticket" }).click();
  await expect(dialog).toBeHidden();
  const row = page.locator("li", { hasText: title });
  await expect(row).toBeVisible();
  await expect(row.locator("[data-delivery]")).toHaveCount(0, { timeout: deliveredWithin });
  return row;
}
