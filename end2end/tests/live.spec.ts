import { test, expect, hydrated } from "./fixtures";
import { signIn } from "./helpers";
import type { Page } from "@playwright/test";

async function teamCreatesItem(console: Page, portal: string, title: string): Promise<string> {
  await console.goto("/local-board");
  await console.getByLabel("Portal ID").fill(portal);
  await console.getByLabel("Title").fill(title);
  await console.getByRole("button", { name: "Create item" }).click();
  await expect(console.getByRole("status")).toContainText("Created item #");
  const row = console.locator("tr", { hasText: title });
  return (await row.getAttribute("data-item-id"))!;
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
