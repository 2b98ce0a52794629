import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { freshPortal, invite, signIn } from "./helpers";

/** A sentence of `locales/<language>/<area>.json`, by its dotted key. */
function say(language: string, key: string, slots: Record<string, string> = {}): string {
  const [area, ...rest] = key.split(".");
  const file = path.join(__dirname, "..", "..", "locales", language, `${area}.json`);
  let value: any = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const part of rest) value = value[part];
  if (typeof value !== "string") throw new Error(`no sentence ${language} ${key}`);
  return Object.entries(slots).reduce((text, [name, v]) => text.replace(`{{ ${name} }}`, v), value);
}

const shots = path.join(__dirname, "..", "screenshots");

async function noSeriousAxeViolations(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    name,
  ).toEqual([]);
}

async function noSidewaysScroll(page: Page, name: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
}

/** Chooses the member's language (and zone, "" for the browser's) on the preferences page. */
async function choose(page: Page, language: string, zone: string) {
  await page.goto("/settings/notifications");
  await page.locator("#language").selectOption(language);
  await page.locator("#zone").selectOption(zone);
  await page.locator("[data-testid=language-prefs] button[type=submit]").click();
  await expect(page).toHaveURL(/saved=language/);
}

test("a member who picks German reads the portal in German, with dates in their zone", async ({ browser }) => {
  const portal = freshPortal("de");
  // The browser is in New York and speaks English.
  const context = await browser.newContext({ timezoneId: "America/New_York", locale: "en-US" });
  const team = await (await browser.newContext()).newPage();
  const page = await context.newPage();
  await signIn(page, portal, "lena@example.com");
  await hydrated(page);
  await choose(page, "de", "");

  // The preferences page itself, now in German, names the browser's zone as the default.
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { name: say("de", "settings.title"), exact: true })).toBeVisible();
  await expect(page.locator("#zone option").first()).toHaveText(
    say("de", "settings.zone_browser_default", { zone: "America/New_York" }),
  );

  // The dashboard and its new-ticket dialog.
  await page.getByRole("navigation").getByRole("link", { name: say("de", "common.nav_tickets") }).click();
  await expect(page.getByRole("heading", { name: "Ihre Tickets" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  await expect(page.getByTestId("live-state")).toHaveText("Live");
  await page.getByRole("main").getByRole("link", { name: "Neues Ticket" }).click();
  const dialog = page.getByRole("dialog", { name: "Neues Ticket" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel(say("de", "tickets.form.description"))).toBeVisible();
  await expect(dialog.getByRole("option", { name: "Hoch" })).toHaveCount(1);
  await expect(dialog.getByText(say("de", "ticket.picker.attach"))).toBeVisible();
  // A file over the limit is refused in German before anything is sent.
  await dialog.locator("input[type=file]").setInputFiles({
    name: "leer.txt",
    mimeType: "text/plain",
    buffer: Buffer.alloc(0),
  });
  await expect(dialog.getByTestId("file-problem")).toHaveText(say("de", "ticket.picker.empty", { name: "leer.txt" }));
  await dialog.locator("input[type=file]").setInputFiles([]);
  const title = `Drucker ${Date.now()}`;
  await dialog.getByLabel(say("de", "tickets.form.title")).fill(title);
  await dialog.getByRole("button", { name: say("de", "tickets.form.create") }).click();
  await expect(dialog).toBeHidden();
  const row = page.locator("li", { hasText: title });
  await expect(row).toBeVisible();
  await expect(row.locator("[data-delivery]")).toHaveCount(0, { timeout: 10_000 });
  await expect(row).toContainText("Eröffnet");
  await expect(page.locator("[data-matching-label]")).toHaveText("1 Ticket");

  // A toast in German when the team changes the ticket in monday.
  const itemId = (await row.getAttribute("data-ticket-id"))!;
  await team.goto("/local-board");
  const teamRow = team.locator(`tr[data-item-id="${itemId}"]`);
  await teamRow.getByLabel(`Status of ${title}`).selectOption("In Progress");
  await Promise.all([team.waitForURL(/done=/), teamRow.getByRole("button", { name: `Set status of ${title}` }).click()]);
  await expect(page.getByTestId("toasts")).toContainText(
    say("de", "tickets.live.status_changed", { title, status: "In Bearbeitung" }),
    { timeout: 2_000 },
  );
  // The row swapped in by the live socket is German too.
  await expect(row.locator("[data-status]")).toHaveText(/In Bearbeitung/);

  // The ticket page: German words, the team's and the client's text as written, times in New York.
  await row.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("ticket-title")).toHaveText(title);
  await expect(page.getByRole("heading", { name: "Beschreibung" })).toBeVisible();
  await expect(page.getByRole("heading", { name: say("de", "ticket.conversation") })).toBeVisible();
  const opened = page.locator("dt", { hasText: say("de", "ticket.opened") }).locator("xpath=following-sibling::dd[1]");
  await expect(opened).toHaveText(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} (EST|EDT)$/);
  const updated = page.locator("dd time").first();
  await expect(updated).toHaveText(/^vor |^gerade eben$/);
  await expect(updated).toHaveAttribute("title", /(EST|EDT)$/);

  // Choosing a zone moves every time to it.
  await choose(page, "de", "Asia/Tokyo");
  await page.goto(`/tickets/${itemId}`);
  await expect(opened).toHaveText(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} JST$/);
  await context.close();
  await team.context().close();
});

test("a browser that asks for French gets the French sign-in page", async ({ browser }) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto("/login");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { name: say("fr", "sign_in.heading") })).toBeVisible();
  await expect(page.getByLabel(say("fr", "sign_in.email_label"))).toBeVisible();
  await hydrated(page);
  // The island's words came with the page, in French.
  await page.getByRole("button", { name: say("fr", "sign_in.trouble") }).click();
  await expect(page.getByText(say("fr", "sign_in.trouble_help"))).toBeVisible();
  await context.close();
});

test("Arabic reads right to left, fits 360 px without sideways scroll and passes axe", async ({ browser }) => {
  const context = await browser.newContext({ locale: "ar", viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto("/login");
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  await expect(page.getByRole("heading", { name: say("ar", "sign_in.heading") })).toBeVisible();
  await noSidewaysScroll(page, "login");
  await noSeriousAxeViolations(page, "login in Arabic");

  // Signing in from a link, in the browser's language.
  const portal = freshPortal("ar");
  await page.goto(invite(portal, "omar@example.com"));
  await page.getByRole("button", { name: say("ar", "sign_in.continue_as", { email: "omar@example.com" }) }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: say("ar", "tickets.your_tickets") })).toBeVisible();
  await choose(page, "ar", "Asia/Riyadh");
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  for (const target of ["/dashboard", "/tickets/new", "/settings/notifications"]) {
    await page.goto(target);
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "ar");
    await noSidewaysScroll(page, target);
    await noSeriousAxeViolations(page, `${target} in Arabic`);
    await page.screenshot({ path: path.join(shots, `ar${target.replace(/\//g, "-")}-360.png`), fullPage: true });
  }
  // Right to left for real: the header's navigation starts at the right edge.
  await page.goto("/dashboard");
  const nav = await page.getByRole("navigation").first().boundingBox();
  const main = await page.getByRole("main").boundingBox();
  expect(nav!.x + nav!.width).toBeGreaterThan(main!.x + main!.width / 2);
  // A ticket's page, with the dialog's words in Arabic.
  await page.getByRole("main").getByRole("link", { name: say("ar", "tickets.new_ticket") }).first().click();
  const dialog = page.getByRole("dialog", { name: say("ar", "tickets.new_ticket") });
  await expect(dialog).toBeVisible();
  await noSidewaysScroll(page, "dialog");
  await noSeriousAxeViolations(page, "new-ticket dialog in Arabic");
  await dialog.getByLabel(say("ar", "tickets.form.title")).fill("الطابعة لا تعمل");
  await dialog.getByRole("button", { name: say("ar", "tickets.form.create") }).click();
  await expect(dialog).toBeHidden();
  const row = page.locator("li", { hasText: "الطابعة لا تعمل" });
  await row.getByRole("link").click();
  await expect(page.getByTestId("ticket-title")).toHaveText("الطابعة لا تعمل");
  await hydrated(page);
  await noSidewaysScroll(page, "ticket");
  await noSeriousAxeViolations(page, "ticket page in Arabic");
  await page.screenshot({ path: path.join(shots, "ar-ticket-360.png"), fullPage: true });
  await context.close();
});
