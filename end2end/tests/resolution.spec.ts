import type { Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { freshPortal, raiseTicket, signIn, type Server } from "./helpers";
import { startPortal, type Portal } from "../servers";

/** The team sets a status on the board's console. */
async function teamSetsStatus(team: Page, itemId: string, title: string, status: string) {
  await team.goto("/local-board");
  const row = team.locator(`tr[data-item-id="${itemId}"]`);
  await row.getByLabel(`Status of ${title}`).selectOption(status);
  await Promise.all([team.waitForURL(/done=/), row.getByRole("button", { name: `Set status of ${title}` }).click()]);
}

/** Reloads `page` until `check` passes (the status arrives with monday's webhook). */
async function eventually(page: Page, check: () => Promise<void>) {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout: 20_000 });
}

/** Raises a ticket as a fresh member and opens it; returns its monday item id. */
async function ticketOpen(page: Page, portal: string, email: string, title: string, server?: Server): Promise<string> {
  await signIn(page, portal, email, "Kim Lee", server, "member");
  await hydrated(page);
  await raiseTicket(page, title);
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("ticket-title")).toHaveText(title);
  return page.url().split("/tickets/")[1];
}

test("'This is solved' shows Resolved in the team console with the note, and reopening works inside the window", async ({
  browser,
}) => {
  const portal = freshPortal("solve");
  const client = await (await browser.newContext()).newPage();
  const title = `Scanner offline ${Date.now()}`;
  const itemId = await ticketOpen(client, portal, `kim.${portal}@example.com`, title);

  await client.getByRole("button", { name: "This is solved" }).click();
  await eventually(client, async () => {
    await expect(client.getByTestId("ticket-status")).toHaveText("Resolved", { timeout: 500 });
  });
  const team = await (await browser.newContext()).newPage();
  await team.goto(`/local-board/items/${itemId}`);
  await expect(team.getByTestId("item-status")).toHaveText("Resolved");
  await expect(team.getByText("Marked this ticket as solved.")).toBeVisible();

  // Inside the window: the client reopens it with a reason.
  await expect(client.getByTestId("reopen")).toContainText("You can reopen this ticket until");
  await client.getByLabel("What is still wrong?").fill("It went offline again this morning.");
  await client.getByRole("button", { name: "Reopen ticket" }).click();
  await eventually(client, async () => {
    await expect(client.getByTestId("ticket-status")).toHaveText("Open", { timeout: 500 });
  });
  await team.reload();
  await expect(team.getByTestId("item-status")).toHaveText("Open");
  await expect(team.getByText("Reopened this ticket: It went offline again this morning.")).toBeVisible();
});

test("a rating recorded from the page appears on the board; a scanner fetching the mail's link records nothing", async ({
  browser,
  playwright,
}) => {
  const portal = freshPortal("rate");
  const email = `kim.${portal}@example.com`;
  const client = await (await browser.newContext()).newPage();
  const title = `Login loops ${Date.now()}`;
  const itemId = await ticketOpen(client, portal, email, title);

  const team = await (await browser.newContext()).newPage();
  await teamSetsStatus(team, itemId, title, "Resolved");

  // The resolution mail asks how it went, with a link per answer.
  const inbox = await (await browser.newContext()).newPage();
  const mail = inbox.locator("li[data-mail]", { hasText: title }).filter({ hasText: "How did we do?" });
  await expect(async () => {
    await inbox.goto("/local-board/mail");
    await expect(mail).toHaveCount(1, { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  const good = (await mail.getByRole("link", { name: /rate=good/ }).getAttribute("href"))!;

  // A mail scanner fetches the link (no cookies, no JavaScript): nothing is recorded.
  const scanner = await playwright.request.newContext();
  expect((await scanner.get(good)).status()).toBe(200);
  await scanner.dispose();
  await team.goto(`/local-board/items/${itemId}`);
  await expect(team.getByTestId("item-rating")).toHaveText("");

  // The client follows it: the ticket opens with Good chosen, and still nothing is recorded.
  const person = await (await browser.newContext()).newPage();
  await person.goto(good);
  await hydrated(person);
  await person.getByRole("button", { name: `Continue as ${email}` }).click();
  await expect(person).toHaveURL(new RegExp(`/tickets/${itemId}\\?rate=good`));
  await expect(person.getByLabel("Good", { exact: true })).toBeChecked();
  await team.reload();
  await expect(team.getByTestId("item-rating")).toHaveText("");

  // Sending it records it, on the board too.
  await person.getByLabel("Anything to add? (optional)").fill("Quick and clear, thank you.");
  await person.getByRole("button", { name: "Send rating" }).click();
  await expect(person.getByRole("status").filter({ hasText: "The team sees your rating" })).toBeVisible();
  await expect(async () => {
    await team.reload();
    await expect(team.getByTestId("item-rating")).toHaveText("Good", { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await expect(team.getByText("Rated the answer: Good. Quick and clear, thank you.")).toBeVisible();
});

test.describe("after the reopen window", () => {
  let server: Portal;
  test.beforeAll(async () => {
    server = await startPortal({ REOPEN_DAYS: "0" });
  });
  test.afterAll(() => server?.stop());

  test("reopening is refused and a follow-up ticket is offered instead", async ({ browser }) => {
    const context = await browser.newContext({ baseURL: server.url });
    const client = await context.newPage();
    const portal = freshPortal("late");
    const title = `Invoices wrong ${Date.now()}`;
    const itemId = await ticketOpen(client, portal, `kim.${portal}@example.com`, title, {
      url: server.url,
      dataDir: server.dataDir,
    });
    const team = await context.newPage();
    await teamSetsStatus(team, itemId, title, "Resolved");
    await eventually(client, async () => {
      await expect(client.getByTestId("ticket-status")).toHaveText("Resolved", { timeout: 500 });
    });
    await expect(client.getByTestId("reopen-closed")).toContainText("can no longer be reopened");
    await expect(client.getByRole("button", { name: "Reopen ticket" })).toHaveCount(0);
    // (A request made anyway is refused with 422: tests/api/resolution.rs.)
    await client.getByLabel("Your message").fill("The April invoices are wrong too.");
    await client.getByRole("button", { name: "Start follow-up ticket" }).click();
    await expect(client).toHaveURL(/\/dashboard\?created=1/);
    await expect(client.getByRole("link", { name: `Follow-up: ${title}` })).toBeVisible();
    await team.goto(`/local-board/items/${itemId}`);
    await expect(team.getByTestId("item-status")).toHaveText("Resolved");
    await context.close();
  });
});
