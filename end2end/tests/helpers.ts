import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { expect } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");

/** Runs `client-portal invite` against the test server's data and returns the printed link. */
export function invite(portal: string, email: string, name?: string): string {
  const args = ["invite", "--portal", portal, "--email", email];
  if (name) args.push("--name", name);
  const out = execFileSync(process.env.PORTAL_BINARY!, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: process.env.PORTAL_DATA_DIR,
      PORTAL_PUBLIC_URL: process.env.PORTAL_URL,
      RUST_LOG: "warn",
    },
  }).toString();
  const lines = out.trim().split("\n");
  return lines[lines.length - 1];
}

/** Signs `page` in through a fresh invite link and lands on the dashboard. */
export async function signIn(page: Page, portal: string, email: string, name?: string) {
  const link = invite(portal, email, name);
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
