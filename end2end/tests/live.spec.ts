import { test, expect, hydrated } from "./fixtures";
import { freshPortal, signIn } from "./helpers";
import type { Browser, Page } from "@playwright/test";

async function teamCreatesItem(console: Page, portal: string, title: string): Promise<string> {
  await console.goto("/local-board");
  await console.getByLabel("Portal ID").fill(portal);
  await console.getByLabel("Title").fill(title);
  await console.getByRole("button", { name: "Create item" }).click();
  await expect(console.getByRole("status")).toContainText("Created item #");
  const row = console.locator("tr", { hasText: title });
  return (await row.getAttribute("data-item-id"))!;
}

/** A member of a fresh portal on its (empty) dashboard with the live connection up, and a
 * team member's page for the console. */
async function liveDashboardOfFreshPortal(browser: Browser, prefix: string) {
  const portal = freshPortal(prefix);
  const clientContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const client = await clientContext.newPage();
  const team = await teamContext.newPage();
  await signIn(client, portal, "kim@example.com");
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  const close = async () => {
    await clientContext.close();
    await teamContext.close();
  };
  return { portal, client, team, close };
}

test("a change made by the team reaches the right portal within a second", async ({ browser }) => {
  const demoContext = await browser.newContext();
  const acmeContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const demo = await demoContext.newPage();
  const acme = await acmeContext.newPage();
  const team = await teamContext.newPage();

  await signIn(demo, "demo", "jordan@demo.example");
  await signIn(acme, "acme", "riley@acme.example");
  const title = `Printer jam ${Date.now()}`;
  const itemId = await teamCreatesItem(team, "demo", title);

  // The new item appears on the demo dashboard without a reload; acme never sees it.
  await hydrated(demo);
  await expect(demo.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  await expect(demo.getByRole("link", { name: title })).toBeVisible({ timeout: 5_000 });
  await expect(acme.getByRole("link", { name: title })).toHaveCount(0);

  // The team moves it to In Progress in the console.
  const row = team.locator(`tr[data-item-id="${itemId}"]`);
  await row.getByLabel(`Status of ${title}`).selectOption("In Progress");
  const acmeToasts = acme.getByTestId("toasts");
  await Promise.all([team.waitForURL(/done=/), row.getByRole("button", { name: `Set status of ${title}` }).click()]);
  const demoRow = demo.locator(`li[data-ticket-id="${itemId}"]`);
  await expect(demoRow.locator("[data-status]")).toHaveAttribute("data-status", "in_progress", { timeout: 1_000 });
  await expect(demo.getByTestId("toasts")).toContainText(`${title} is now In Progress`, { timeout: 1_000 });
  await expect(acmeToasts).not.toContainText(title);
  await expect(acme.getByText(title)).toHaveCount(0);

  // A public reply from the team appears in the open ticket's conversation.
  await demoRow.getByRole("link", { name: title }).click();
  await expect(demo.getByTestId("ticket-title")).toHaveText(title);
  await hydrated(demo);
  await team.goto(`/local-board/items/${itemId}`);
  await team.getByLabel("Message").fill("We replaced the roller, try again please.");
  await Promise.all([team.waitForURL(/done=/), team.getByRole("button", { name: "Reply to client" }).click()]);
  await expect(demo.getByTestId("conversation")).toContainText("We replaced the roller", { timeout: 1_000 });
  await expect(demo.getByTestId("conversation")).not.toContainText("@client");
  await expect(demo.getByTestId("toasts")).toContainText(`New reply on ${title}`);

  // An internal note never shows.
  await team.getByLabel("Message").fill("Internal: charge them for the roller");
  await Promise.all([team.waitForURL(/done=/), team.getByRole("button", { name: "Add internal note" }).click()]);
  await demo.waitForTimeout(1_000);
  await expect(demo.getByTestId("conversation")).not.toContainText("charge them");

  await demoContext.close();
  await acmeContext.close();
  await teamContext.close();
});

test("after losing its connection the page reconnects and catches up on what it missed", async ({ browser }) => {
  const clientContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const client = await clientContext.newPage();
  const team = await teamContext.newPage();

  // Every live socket goes through this route, so the test can cut it and refuse new ones.
  let refusing = false;
  let connections = 0;
  let cut: (() => void) | undefined;
  await client.routeWebSocket(/\/live$/, (page) => {
    connections += 1;
    if (refusing) {
      page.close({ code: 1011, reason: "test: refused" });
      return;
    }
    const server = page.connectToServer();
    cut = () => {
      server.close();
      page.close({ code: 1011, reason: "test: cut" });
    };
  });

  await signIn(client, "demo", "jordan@demo.example");
  await hydrated(client);
  const state = client.getByTestId("live-state");
  await expect(state).toHaveAttribute("data-state", "Live");
  const title = `Flickering screen ${Date.now()}`;
  const itemId = await teamCreatesItem(team, "demo", title);
  const row = client.locator(`li[data-ticket-id="${itemId}"]`);
  await expect(row).toBeVisible({ timeout: 5_000 });
  await client.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  // The connection drops; while the page cannot reconnect, the team changes the status, so
  // the event is published to nobody on this page.
  refusing = true;
  cut!();
  await expect(state).not.toHaveAttribute("data-state", "Live", { timeout: 2_000 });
  const teamRow = team.locator(`tr[data-item-id="${itemId}"]`);
  await teamRow.getByLabel(`Status of ${title}`).selectOption("Resolved");
  await Promise.all([team.waitForURL(/done=/), teamRow.getByRole("button", { name: `Set status of ${title}` }).click()]);
  refusing = false;

  // Reconnected (with back-off), the page fetches what it missed, without a reload.
  await expect(state).toHaveAttribute("data-state", "Live", { timeout: 15_000 });
  await expect(row.locator("[data-status]")).toHaveAttribute("data-status", "resolved", { timeout: 5_000 });
  expect(await client.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(connections).toBeGreaterThan(1);

  await clientContext.close();
  await teamContext.close();
});

test("a ticket's page shows other tickets' changes as a toast and loads nothing for them", async ({ browser }) => {
  const clientContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const client = await clientContext.newPage();
  const team = await teamContext.newPage();
  await signIn(client, "demo", "jordan@demo.example");
  const shownTitle = `Shown ticket ${Date.now()}`;
  const otherTitle = `Other ticket ${Date.now()}`;
  const shownId = await teamCreatesItem(team, "demo", shownTitle);
  const otherId = await teamCreatesItem(team, "demo", otherTitle);

  await client.goto(`/tickets/${shownId}`);
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  const pageLoads: string[] = [];
  client.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/tickets/")) pageLoads.push(request.url());
  });

  // Another ticket changes: a toast, and no request for this page.
  await team.goto("/local-board");
  const other = team.locator(`tr[data-item-id="${otherId}"]`);
  await other.getByLabel(`Status of ${otherTitle}`).selectOption("In Progress");
  await Promise.all([team.waitForURL(/done=/), other.getByRole("button", { name: `Set status of ${otherTitle}` }).click()]);
  await expect(client.getByTestId("toasts")).toContainText(`${otherTitle} is now In Progress`, { timeout: 2_000 });
  await client.waitForTimeout(500);
  expect(pageLoads, "no page load for another ticket's change").toEqual([]);

  // This ticket changes: the page refreshes its live region.
  const shown = team.locator(`tr[data-item-id="${shownId}"]`);
  await shown.getByLabel(`Status of ${shownTitle}`).selectOption("Resolved");
  await Promise.all([team.waitForURL(/done=/), shown.getByRole("button", { name: `Set status of ${shownTitle}` }).click()]);
  await expect(client.locator("[data-status]").first()).toHaveAttribute("data-status", "resolved", { timeout: 2_000 });
  expect(pageLoads.length).toBeGreaterThan(0);
  await clientContext.close();
  await teamContext.close();
});

test("an open dashboard follows the team's change in place, loading nothing", async ({ browser }) => {
  const clientContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const client = await clientContext.newPage();
  const team = await teamContext.newPage();
  await signIn(client, "demo", "jordan@demo.example");
  const title = `In place ${Date.now()}`;
  const itemId = await teamCreatesItem(team, "demo", title);
  const row = client.locator(`li[data-ticket-id="${itemId}"]`);
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  await expect(row).toBeVisible({ timeout: 5_000 });
  const resolvedBefore = Number(await client.locator('[data-count="resolved"]').textContent());
  const pageLoads: string[] = [];
  client.on("request", (request) => {
    if (new URL(request.url()).pathname === "/dashboard") pageLoads.push(request.url());
  });

  await team.goto("/local-board");
  const item = team.locator(`tr[data-item-id="${itemId}"]`);
  await item.getByLabel(`Status of ${title}`).selectOption("Resolved");
  await Promise.all([team.waitForURL(/done=/), item.getByRole("button", { name: `Set status of ${title}` }).click()]);
  await expect(row.locator("[data-status]")).toHaveAttribute("data-status", "resolved", { timeout: 1_000 });
  await expect(client.locator('[data-count="resolved"]')).toHaveText(String(resolvedBefore + 1));
  await expect(client.getByTestId("toasts")).toContainText(`${title} is now Resolved`);
  // The row still opens its ticket (the swapped markup is the server's own).
  await expect(row.getByRole("link", { name: title })).toHaveAttribute("href", `/tickets/${itemId}`);
  expect(pageLoads, "no page load for a change the message carried").toEqual([]);
  await clientContext.close();
  await teamContext.close();
});

test("a ticket the team creates joins an open dashboard at the top, loading nothing", async ({ browser }) => {
  const { portal, client, team, close } = await liveDashboardOfFreshPortal(browser, "live_new");
  // The first ticket replaces the empty state: the page is loaded again for it.
  const firstId = await teamCreatesItem(team, portal, "First on the board");
  await expect(client.locator(`li[data-ticket-id="${firstId}"]`)).toBeVisible({ timeout: 5_000 });
  await expect(client.locator("[data-matching-label]")).toHaveText("1 ticket");
  const pageLoads: string[] = [];
  client.on("request", (request) => {
    if (new URL(request.url()).pathname === "/dashboard") pageLoads.push(request.url());
  });

  const secondId = await teamCreatesItem(team, portal, "Second on the board");
  const rows = client.getByTestId("ticket-list").locator("li[data-ticket-id]");
  await expect(rows.first()).toHaveAttribute("data-ticket-id", secondId, { timeout: 2_000 });
  await expect(rows).toHaveCount(2);
  await expect(client.locator("[data-matching-label]")).toHaveText("2 tickets");
  await expect(client.locator('[data-count="all"]')).toHaveText("2");
  await expect(client.getByTestId("toasts")).toContainText("New ticket: Second on the board");
  await expect(rows.first().getByRole("link", { name: "Second on the board" })).toHaveAttribute(
    "href",
    `/tickets/${secondId}`,
  );
  expect(pageLoads, "no page load for a new ticket the message carried").toEqual([]);
  // What was put in place is what the server shows.
  await client.reload();
  await expect(rows.first()).toHaveAttribute("data-ticket-id", secondId);
  await expect(rows).toHaveCount(2);
  await close();
});

test("a ticket the team archives leaves an open dashboard in place, loading nothing", async ({ browser }) => {
  const { portal, client, team, close } = await liveDashboardOfFreshPortal(browser, "live_gone");
  const keptId = await teamCreatesItem(team, portal, "Stays on the board");
  const goneId = await teamCreatesItem(team, portal, "Archived by the team");
  const rows = client.getByTestId("ticket-list").locator("li[data-ticket-id]");
  await expect(rows).toHaveCount(2, { timeout: 5_000 });
  const pageLoads: string[] = [];
  client.on("request", (request) => {
    if (new URL(request.url()).pathname === "/dashboard") pageLoads.push(request.url());
  });

  await team.goto(`/local-board/items/${goneId}`);
  await team.getByRole("button", { name: "Archive item" }).click();
  await expect(client.locator(`li[data-ticket-id="${goneId}"]`)).toHaveCount(0, { timeout: 2_000 });
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-ticket-id", keptId);
  await expect(client.locator("[data-matching-label]")).toHaveText("1 ticket");
  await expect(client.locator('[data-count="all"]')).toHaveText("1");
  expect(pageLoads, "no page load for a removal the message carried").toEqual([]);
  await client.reload();
  await expect(rows).toHaveCount(1);
  await close();
});
