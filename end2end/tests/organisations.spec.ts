import { test, expect, hydrated } from "./fixtures";
import { freshPortal, raiseTicket, signIn } from "./helpers";

test("an admin invites a colleague, who signs in from the demo inbox", async ({ browser }) => {
  const portal = freshPortal("org");
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, portal, `ada.${portal}@example.com`, "Ada Admin", undefined, "admin");
  await admin.getByRole("link", { name: "Colleagues" }).click();
  await expect(admin.getByRole("heading", { name: "Colleagues" })).toBeVisible();

  const colleague = `cole.${portal}@example.com`;
  await admin.getByLabel("Email").fill(colleague);
  await admin.getByLabel("Name (optional)").fill("Cole Worker");
  await admin.getByLabel("Role", { exact: true }).selectOption("member");
  await admin.getByRole("button", { name: "Send invitation" }).click();
  await expect(admin.getByRole("status").filter({ hasText: "Invitation sent" })).toBeVisible();
  await expect(admin.locator(`[data-colleague="${colleague}"]`)).toHaveAttribute("data-role", "member");

  // The colleague finds the invitation in the demo inbox and signs in with it.
  const cole = await (await browser.newContext()).newPage();
  await cole.goto("/local-board/mail");
  const mail = cole.locator("li[data-mail]", { hasText: "Ada Admin invited you to" }).filter({ hasText: colleague });
  await expect(mail).toHaveCount(1);
  await mail.getByRole("link", { name: new RegExp(`/login\\?portal_id=${portal}&token=`) }).click();
  await hydrated(cole);
  await cole.getByRole("button", { name: `Continue as ${colleague}` }).click();
  await expect(cole).toHaveURL(/\/dashboard$/);
  await expect(cole.getByRole("heading", { name: "Your tickets" })).toBeVisible();
  // A member has no Colleagues page.
  await expect(cole.getByRole("link", { name: "Colleagues" })).toHaveCount(0);
  expect((await cole.goto("/colleagues"))!.status()).toBe(403);
});

test("a requester sees only their own tickets until a colleague adds them as a follower", async ({ browser }) => {
  const portal = freshPortal("org");
  const member = await (await browser.newContext()).newPage();
  await signIn(member, portal, `max.${portal}@example.com`, "Max Member", undefined, "member");
  const theirs = `Invoice question ${Date.now()}`;
  await hydrated(member);
  await raiseTicket(member, theirs);

  const requester = await (await browser.newContext()).newPage();
  const rae = `rae.${portal}@example.com`;
  await signIn(requester, portal, rae, "Rae Requester", undefined, "requester");
  const mine = `Login problem ${Date.now()}`;
  await hydrated(requester);
  await raiseTicket(requester, mine);
  await requester.reload();
  await expect(requester.getByRole("link", { name: mine })).toBeVisible();
  await expect(requester.getByRole("link", { name: theirs })).toHaveCount(0);
  await expect(requester.getByRole("link", { name: "Raised or followed by me" })).toBeVisible();

  // The member sees both, says who raised each, and adds Rae as a follower of theirs.
  await member.reload();
  await expect(member.getByRole("link", { name: mine })).toBeVisible();
  await member.getByRole("link", { name: theirs }).click();
  const ticketUrl = member.url();
  expect((await requester.goto(ticketUrl))!.status()).toBe(404);
  const followers = member.getByTestId("followers");
  await followers.getByLabel("Add a colleague").selectOption(rae);
  await followers.getByRole("button", { name: "Add" }).click();
  await expect(member.getByTestId("followers").locator(`[data-follower="${rae}"]`)).toBeVisible();

  // Now Rae sees it, and can stop following it.
  expect((await requester.goto(ticketUrl))!.status()).toBe(200);
  await expect(requester.getByTestId("ticket-title")).toHaveText(theirs);
  await requester.getByTestId("followers").getByRole("button", { name: "Stop following" }).click();
  await expect(requester).toHaveURL(/\/dashboard$/);
  await expect(requester.getByRole("link", { name: theirs })).toHaveCount(0);
  expect((await requester.goto(ticketUrl))!.status()).toBe(404);
});
