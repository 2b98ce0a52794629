import { test, expect, hydrated } from "./fixtures";
import { signIn } from "./helpers";

test("the dashboard shows the portal's own tickets, with filters, search and sort in the URL", async ({ page }) => {
  await signIn(page, "demo", "jordan@demo.example");
  await hydrated(page);
  const list = page.getByTestId("ticket-list");
  await expect(list.getByRole("link", { name: "Website login issue" })).toBeVisible();
  await expect(list.getByRole("link", { name: "Invoice PDF shows the wrong VAT number" })).toBeVisible();
  // acme's tickets never appear.
  await expect(page.getByText("Checkout button unresponsive on mobile")).toHaveCount(0);
  await expect(page.getByText("SSL certificate expires next week")).toHaveCount(0);

  // Status filter from the count chips.
  await page.getByRole("navigation", { name: "Filter by status" }).getByRole("link", { name: /Resolved/ }).click();
  await expect(page).toHaveURL(/status=resolved/);
  await expect(list.locator("[data-status]").first()).toBeVisible();
  for (const status of await list.locator("[data-status]").all()) {
    await expect(status).toHaveAttribute("data-status", "resolved");
  }

  // Search, priority and sort go into the URL, and the URL reproduces the view.
  await page.goto("/dashboard");
  await page.getByLabel("Search tickets").fill("login");
  await page.getByLabel("Sort by").selectOption("priority");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/q=login/);
  await expect(page).toHaveURL(/sort=priority/);
  await expect(list.getByRole("link", { name: "Website login issue" })).toBeVisible();
  await expect(list.getByRole("link", { name: "Invoice PDF shows the wrong VAT number" })).toHaveCount(0);
  const url = page.url();
  await page.goto(url);
  await expect(page.getByLabel("Search tickets")).toHaveValue("login");
  await expect(list.getByRole("link", { name: "Website login issue" })).toBeVisible();

  await page.goto("/dashboard?priority=urgent");
  await expect(page.getByLabel("Filter by priority")).toHaveValue("urgent");
  for (const badge of await list.locator("[data-priority]").all()) {
    await expect(badge).toHaveAttribute("data-priority", "urgent");
  }

  await page.goto("/dashboard?q=zzz-no-such-thing");
  await expect(page.getByText("No tickets match")).toBeVisible();
});

test("a new ticket appears at once, reaches the board, and a reply becomes an update", async ({ page, browser }) => {
  await signIn(page, "demo", "alex@demo.example", "Alex Kim");
  await hydrated(page);
  const title = `Broken contact form ${Date.now()}`;
  await page.getByRole("main").getByRole("link", { name: "New ticket" }).click();
  const dialog = page.getByRole("dialog", { name: "New ticket" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Title").fill(title);
  await dialog.getByLabel("Description").fill("The form on /contact says 'error 500'.\nSince Monday.");
  await dialog.getByLabel("Priority").selectOption("high");
  await dialog.getByRole("button", { name: "Create ticket" }).click();
  await expect(dialog).toBeHidden();
  const row = page.locator("li", { hasText: title });
  await expect(row).toBeVisible();
  // Sent or still sending: either way it is on the page; then it settles.
  await expect(row.locator("[data-delivery]")).toHaveCount(0, { timeout: 10_000 });
  await expect(row.locator("[data-priority]")).toHaveAttribute("data-priority", "high");

  // The team sees it on the board.
  const team = await browser.newPage();
  await team.goto("/local-board");
  const boardRow = team.locator("tr", { hasText: title });
  await expect(boardRow).toBeVisible();
  await expect(boardRow).toContainText("demo");

  // Open it and reply.
  await row.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("ticket-title")).toHaveText(title);
  await expect(page.getByText("Since Monday.")).toBeVisible();
  await page.getByLabel("Your message").fill("Here is a screenshot link: https://example.com/shot.png");
  await page.getByRole("button", { name: "Send reply" }).click();
  const conversation = page.getByTestId("conversation");
  await expect(conversation).toContainText("Here is a screenshot link");
  await expect(conversation.locator("[data-delivery]")).toHaveCount(0, { timeout: 10_000 });
  await expect(page.getByLabel("Your message")).toHaveValue("");

  // The reply is an update on the item, saying who wrote it.
  await boardRow.getByRole("link", { name: title }).click();
  await expect(team.getByText("Alex Kim (alex@demo.example) wrote via the client portal:")).toBeVisible();
  await expect(team.getByText("Here is a screenshot link")).toBeVisible();
  await team.close();
});

test("a public team reply is shown and an internal note is not", async ({ page }) => {
  await signIn(page, "demo", "jordan@demo.example");
  await page.getByRole("link", { name: "Website login issue" }).click();
  const conversation = page.getByTestId("conversation");
  await expect(conversation).toContainText("We can reproduce it and a fix is on its way today.");
  await expect(conversation).not.toContainText("@client");
  await expect(page.getByText("root cause is the session cookie domain")).toHaveCount(0);
  await expect(page.getByTestId("timeline")).toContainText("In Progress");
});

test("what a client types is shown as text", async ({ page }) => {
  let alerted = false;
  page.on("dialog", async (d) => {
    alerted = true;
    await d.dismiss();
  });
  await signIn(page, "acme", "morgan@acme.example");
  await page.goto("/tickets/new");
  await hydrated(page);
  const title = `<img src=x onerror=alert(1)> ${Date.now()}`;
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Description").fill("<script>alert(2)</script>");
  await page.getByRole("button", { name: "Create ticket" }).click();
  await expect(page).toHaveURL(/\/dashboard\?created=1/);
  await expect(page.getByRole("link", { name: title })).toBeVisible();
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("ticket-title")).toHaveText(title);
  await expect(page.getByText("<script>alert(2)</script>")).toBeVisible();
  expect(await page.locator("img[src=x]").count()).toBe(0);
  expect(alerted).toBe(false);
});

test("a ticket can be created with JavaScript disabled", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, "acme", "riley@acme.example");
  await page.goto("/tickets/new");
  const title = `No-JS ticket ${Date.now()}`;
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Priority").selectOption("urgent");
  await page.getByRole("button", { name: "Create ticket" }).click();
  await expect(page).toHaveURL(/\/dashboard\?created=1/);
  await expect(page.getByText("Your ticket is saved and on its way to the team.")).toBeVisible();
  await expect(page.getByRole("link", { name: title })).toBeVisible();

  // Replying works without JavaScript too.
  await page.reload();
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("ticket-title")).toHaveText(title);
  await page.getByLabel("Your message").fill("Sent without JavaScript");
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.getByTestId("conversation")).toContainText("Sent without JavaScript");
  await context.close();
});

test("another portal's ticket answers 404", async ({ page, request }) => {
  await signIn(page, "demo", "jordan@demo.example");
  // An acme ticket id from the REST API, as acme.
  const { execFileSync } = await import("node:child_process");
  const link = execFileSync(process.env.PORTAL_BINARY!, ["invite", "--portal", "acme", "--email", "riley@acme.example"], {
    env: { PATH: process.env.PATH, DATA_DIR: process.env.PORTAL_DATA_DIR, PORTAL_PUBLIC_URL: process.env.PORTAL_URL, RUST_LOG: "warn" },
  })
    .toString()
    .trim()
    .split("\n")
    .pop()!;
  const token = new URL(link).searchParams.get("token")!;
  const auth = await (await request.get(`/api/v1/auth/acme/${token}`)).json();
  const tickets = await (await request.get("/api/v1/tickets/acme", { headers: { Authorization: `Bearer ${auth.access_token}` } })).json();
  const acmeTicket = tickets[0];
  const response = await page.goto(`/tickets/${acmeTicket.id}`);
  expect(response!.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We could not find that page" })).toBeVisible();
  await expect(page.getByText(acmeTicket.title)).toHaveCount(0);
});
