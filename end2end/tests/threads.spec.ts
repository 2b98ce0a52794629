import { test, expect, hydrated } from "./fixtures";
import { freshPortal, signIn } from "./helpers";
import type { Locator, Page } from "@playwright/test";

/** Creates an item for `portal` in the team console and returns its id. */
async function teamCreatesItem(team: Page, portal: string, title: string): Promise<string> {
  await team.goto("/local-board");
  await team.getByLabel("Portal ID").fill(portal);
  await team.getByLabel("Title").fill(title);
  await team.getByRole("button", { name: "Create item" }).click();
  await expect(team.getByRole("status")).toContainText("Created item #");
  return (await team.locator("tr", { hasText: title }).getAttribute("data-item-id"))!;
}

/** Reloads the console's item page until `locator` shows (the portal's outbox delivers soon). */
async function reloadUntilVisible(team: Page, locator: Locator) {
  await expect(async () => {
    await team.reload();
    await expect(locator).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
}

async function live(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
}

test("the team answers in the thread of the client's message, the client answers back in the team's thread, edits show live", async ({ browser }) => {
  const portal = freshPortal("threads");
  const clientContext = await browser.newContext();
  const teamContext = await browser.newContext();
  const client = await clientContext.newPage();
  const team = await teamContext.newPage();

  await signIn(client, portal, `kim@${portal}.example`, "Kim Lee");
  const title = `Printer error ${Date.now()}`;
  const itemId = await teamCreatesItem(team, portal, title);

  // The client writes a message on the ticket.
  await client.goto(`/tickets/${itemId}`);
  await live(client);
  await client.getByLabel("Your message").fill("The printer shows error 42 again.");
  await client.getByRole("button", { name: "Send reply" }).click();
  await expect(client.getByTestId("conversation")).toContainText("error 42");
  await live(client);

  // The team presses "Reply" under the client's message in the console.
  await team.goto(`/local-board/items/${itemId}`);
  const message = team.locator("li[data-update-id]", { hasText: "error 42" }).first();
  await reloadUntilVisible(team, message);
  await message.getByPlaceholder("Reply in this thread").fill("Please turn it off and on again.");
  await Promise.all([team.waitForURL(/done=/), message.getByRole("button", { name: "Reply", exact: true }).click()]);

  // The client sees the answer live, in the thread of their message, with a toast.
  const conversation = client.getByTestId("conversation");
  await expect(conversation).toContainText("Please turn it off and on again.", { timeout: 5_000 });
  await expect(client.getByTestId("toasts")).toContainText(`New reply on ${title}`);
  const answer = conversation.locator("li", { hasText: "Please turn it off and on again." });
  await expect(answer.getByTestId("in-reply-to")).toContainText("Kim Lee");

  // An @internal reply in the same thread never shows.
  const thread = team.locator("li[data-update-id]", { hasText: "error 42" }).first();
  await thread.getByPlaceholder("Reply in this thread").fill("@internal they never read the manual");
  await Promise.all([team.waitForURL(/done=/), thread.getByRole("button", { name: "Reply", exact: true }).click()]);
  await expect(team.getByTestId("updates")).toContainText("they never read the manual");
  await client.waitForTimeout(1_500);
  await expect(conversation).not.toContainText("never read the manual");
  await expect(conversation).not.toContainText("@internal");

  // A top-level public message from the team; the client answers it in its thread.
  await team.getByLabel("Message").fill("Could you send us the printer's model number?");
  await Promise.all([team.waitForURL(/done=/), team.getByRole("button", { name: "Reply to client" }).click()]);
  const question = conversation.locator("li", { hasText: "model number" });
  await expect(question).toBeVisible({ timeout: 5_000 });
  await question.getByTestId("reply-in-thread").click();
  await expect(client.getByTestId("replying-to")).toContainText("Replying in the thread of");
  await client.getByLabel("Your message").fill("It is a LaserJet 4000.");
  await client.getByRole("button", { name: "Send reply" }).click();
  await expect(conversation.locator("li", { hasText: "LaserJet 4000" })).toBeVisible();
  await live(client);
  // On monday (the console) the client's answer is a reply in the thread of that message.
  const questionOnBoard = team.locator("li[data-update-id]", { hasText: "model number" }).first();
  const nestedAnswer = questionOnBoard.locator("ol li[data-update-id]", { hasText: "LaserJet 4000" });
  await reloadUntilVisible(team, nestedAnswer);
  await expect(nestedAnswer).toContainText("from the portal");

  // The team edits its public reply; the client's page changes by itself.
  await team.goto(`/local-board/items/${itemId}`);
  const reply = team.locator("li[data-update-id]", { hasText: "Please turn it off and on again." }).last();
  await reply.locator("summary").click();
  await reply.getByRole("textbox", { name: /New text of/ }).fill("Please turn it off, wait ten seconds, and on again.");
  await Promise.all([team.waitForURL(/done=/), reply.getByRole("button", { name: "Save edit" }).click()]);
  await expect(conversation).toContainText("wait ten seconds", { timeout: 5_000 });
  await expect(conversation).not.toContainText("Please turn it off and on again.");
  await expect(client.getByTestId("toasts")).toContainText(`A reply on ${title} was edited`);

  await clientContext.close();
  await teamContext.close();
});
