import { test, expect, hydrated } from "./fixtures";
import { freshPortal, invite } from "./helpers";

test("a team reply is mailed, and the mail's link signs in and opens the ticket", async ({ browser }) => {
  const portal = freshPortal("notify");
  const email = `kim.${portal}@example.com`;
  // A member, not signed in anywhere.
  invite(portal, email, "Kim Lee");

  // The team creates a ticket for Kim in the console and answers it.
  const team = await (await browser.newContext()).newPage();
  const title = `Scanner offline ${Date.now()}`;
  await team.goto("/local-board");
  await team.getByLabel("Portal ID").fill(portal);
  await team.getByLabel("Title").fill(title);
  await team.getByLabel("Client email").fill(email);
  await team.getByRole("button", { name: "Create item" }).click();
  await expect(team.getByRole("status")).toContainText("Created item #");
  const itemId = (await team.locator("tr", { hasText: title }).getAttribute("data-item-id"))!;
  await team.goto(`/local-board/items/${itemId}`);
  await team.getByLabel("Message").fill("The scanner needed a new driver; it works again.");
  await Promise.all([team.waitForURL(/done=/), team.getByRole("button", { name: "Reply to client" }).click()]);

  // The console says the change produced a mail.
  await expect(async () => {
    await team.reload();
    await expect(team.getByTestId("notifications")).toContainText("about a team reply: sent", { timeout: 500 });
  }).toPass({ timeout: 20_000 });

  // Kim opens the mail in the demo inbox and follows its link.
  const kim = await (await browser.newContext()).newPage();
  await kim.goto("/local-board/mail");
  const mail = kim.locator("li[data-mail]", { hasText: `replied: ${title}` });
  await expect(mail).toHaveCount(1);
  await expect(mail).toContainText("it works again");
  await mail.getByRole("link", { name: new RegExp(`/login\\?portal_id=${portal}&token=`) }).click();
  await hydrated(kim);
  await kim.getByRole("button", { name: `Continue as ${email}` }).click();
  await expect(kim).toHaveURL(new RegExp(`/tickets/${itemId}$`));
  await expect(kim.getByRole("heading", { name: title })).toBeVisible();
  await expect(kim.getByTestId("conversation")).toContainText("it works again");

  // The notification settings page, from the portal's navigation.
  await kim.getByRole("link", { name: "Preferences" }).click();
  await expect(kim.getByRole("heading", { name: "Preferences" })).toBeVisible();
  await expect(kim.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await kim.getByLabel("Replies and resolutions only").check();
  await kim.getByRole("button", { name: "Save", exact: true }).click();
  await expect(kim.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await kim.reload();
  await expect(kim.getByLabel("Replies and resolutions only")).toBeChecked();
});
