import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { invite, signIn } from "./helpers";

const shots = path.join(__dirname, "..", "screenshots");
const widths = [1280, 390];

/** Fails on serious or critical axe-core violations and saves a screenshot at each width. */
async function check(page: Page, name: string) {
  fs.mkdirSync(shots, { recursive: true });
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
      `${name} at ${width}px`,
    ).toEqual([]);
    // Nothing may scroll sideways, down to a 360 px phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} at 360px scrolls sideways`).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 900 });
}

test("every page passes axe-core and fits from 360 px up", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await check(page, "login");

  const link = invite("demo", "alex@demo.example");
  await page.goto(link);
  await expect(page.getByRole("button", { name: /Continue as/ })).toBeVisible();
  await check(page, "login-continue");

  await page.goto("/login?portal_id=demo&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  await expect(page.getByRole("heading", { name: "This link has expired or was already used" })).toBeVisible();
  await check(page, "login-expired");

  await signIn(page, "demo", "jordan@demo.example");
  await hydrated(page);
  await check(page, "dashboard");

  await page.getByRole("main").getByRole("link", { name: "New ticket" }).click();
  await expect(page.getByRole("dialog", { name: "New ticket" })).toBeVisible();
  await check(page, "dashboard-new-ticket-modal");
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toBeHidden();

  await page.goto("/dashboard?q=zzz-nothing");
  await check(page, "dashboard-no-match");

  await page.goto("/tickets/new");
  await check(page, "new-ticket");

  await page.goto("/settings/notifications");
  await expect(page.getByRole("heading", { name: "Preferences" })).toBeVisible();
  await check(page, "notification-settings");

  await page.goto("/dashboard");
  await page.getByRole("link", { name: "Website login issue" }).click();
  await expect(page.getByTestId("ticket-title")).toBeVisible();
  await check(page, "ticket");

  // A resolved ticket: "How did we do?", reopening (or a follow-up), the followers.
  await page.goto("/dashboard?status=resolved");
  await page.getByRole("link", { name: "Add our new logo to the header" }).click();
  await expect(page.getByRole("heading", { name: "How did we do?" })).toBeVisible();
  await check(page, "ticket-resolved");

  // Jordan is the demo portal's admin.
  await page.goto("/colleagues");
  await expect(page.getByRole("heading", { name: "Colleagues" })).toBeVisible();
  await check(page, "colleagues");

  await page.goto("/no/such/page");
  await check(page, "not-found");
});

test("the portal can be used with the keyboard alone", async ({ page }) => {
  await signIn(page, "demo", "jordan@demo.example");
  await hydrated(page);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  // Tab through to the first ticket and open it with Enter.
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.closest("li[data-ticket-id]") !== null);
    if (focused) break;
  }
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).boxShadow);
  expect(outline, "a visible focus ring").not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("ticket-title")).toBeVisible();
});
