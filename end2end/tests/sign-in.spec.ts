import { test, expect, hydrated } from "./fixtures";
import { freshPortal, invite, signIn } from "./helpers";

test("an invite link signs in once and lands on the dashboard", async ({ page, browser }) => {
  const portal = freshPortal("signin");
  const link = invite(portal, "pat@example.com", "Pat Doe");
  expect(link).toContain(`/login?portal_id=${portal}&token=`);

  await page.goto(link);
  await hydrated(page);
  await expect(page.getByText("This link signs you in")).toBeVisible();
  await page.getByRole("button", { name: "Continue as pat@example.com" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Your tickets" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(portal);
  await expect(page.getByText("No tickets yet")).toBeVisible();

  // The same link in another browser is refused.
  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(link);
  await expect(second.getByRole("heading", { name: "This link has expired or was already used" })).toBeVisible();
  await expect(second.getByLabel("Email address")).toBeVisible();
  await second.goto("/dashboard");
  await expect(second).toHaveURL(/\/login$/);
  await other.close();

  // Sign out ends the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login$/);
});

test("asking for a link answers the same for any address", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email address").fill("someone-unknown@example.com");
  await page.getByRole("button", { name: "Email me a link" }).click();
  // The answer never repeats what the URL carries (a crafted link could make it say anything).
  await expect(page.getByText("if that address has access", { exact: false })).toBeVisible();
});

test("a newcomer asks for a link, finds it in the demo inbox and signs in", async ({ page }) => {
  const email = "alex@demo.example";
  // Only sign-in mails: notification mails to the same member may land in the inbox too.
  const mailsTo = () => page.locator("li[data-mail]", { hasText: email }).filter({ hasText: "Your sign-in link" });
  await page.goto("/local-board/mail");
  const before = await mailsTo().count();

  await page.goto("/login");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "demo inbox" })).toBeVisible();
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByText("if that address has access", { exact: false })).toBeVisible();

  // The mail goes out in the background (unknown addresses must take as long to answer).
  await expect
    .poll(async () => {
      await page.goto("/local-board/mail");
      return mailsTo().count();
    })
    .toBeGreaterThan(before);
  const newest = mailsTo().first();
  await expect(newest).toContainText("Your sign-in link for Demo Company");
  await newest.getByRole("link", { name: /\/login\?portal_id=demo&token=/ }).click();

  await page.getByRole("button", { name: `Continue as ${email}` }).click();
  await expect(page).toHaveURL(/\/dashboard/);
  await expect(page.getByRole("link", { name: "Website login issue" })).toBeVisible();
});

test("someone in two portals switches between them from the header, with or without JavaScript", async ({ browser }) => {
  const first = freshPortal("switch_a");
  const second = freshPortal("switch_b");
  for (const javaScriptEnabled of [true, false]) {
    const email = javaScriptEnabled ? "robin@example.com" : "robin-no-js@example.com";
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    await signIn(page, first, email);
    const switcher = page.getByLabel("Switch to another portal");
    await expect(switcher).toHaveCount(0);
    // Invited by the agency's command line (another process): the header offers it once the
    // portal has seen the change (its memory re-reads within a fraction of a second).
    invite(second, email);
    await expect(async () => {
      await page.reload();
      await expect(switcher.locator("option")).toHaveText([second], { timeout: 500 });
    }).toPass({ timeout: 5_000 });
    await page.getByRole("button", { name: "Switch" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    // The header now names the second portal and offers the way back.
    await expect(page.getByRole("banner")).toContainText(second);
    await expect(page.getByLabel("Switch to another portal").locator("option")).toHaveText([first]);
    await context.close();
  }
});
