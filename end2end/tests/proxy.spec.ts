import { test, expect, hydrated } from "./fixtures";
import { raiseTicket, signIn } from "./helpers";
import { freePort, startNginx, startPortal, type Portal, type Proxy } from "../servers";

// A portal of its own behind Debian's nginx, configured as the README's production example:
// the browser only ever talks to the proxy; the team works in the console on the portal's own
// loopback address, which is the only place the console exists.
let portal: Portal;
let proxy: Proxy;

test.beforeAll(async () => {
  const port = await freePort();
  portal = await startPortal({
    PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TRUSTED_PROXIES: "127.0.0.1",
  });
  proxy = await startNginx(port, [portal.address]);
});

test.afterAll(() => {
  proxy?.stop();
  portal?.stop();
});

test("through a reverse proxy a client signs in, raises a ticket and sees the team's change live", async ({
  browser,
  request,
}) => {
  // What is public through the proxy: the portal, but neither the console nor the demo inbox.
  for (const path of ["/local-board", "/local-board/mail"]) {
    expect((await request.get(`${proxy.url}${path}`)).status(), path).toBe(404);
  }

  const clientContext = await browser.newContext();
  const client = await clientContext.newPage();
  await signIn(client, "demo", "jordan@demo.example", undefined, { url: proxy.url, dataDir: portal.dataDir });
  expect(client.url().startsWith(proxy.url)).toBeTruthy();
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");

  // A new ticket, through the dialog.
  const title = `Proxy ticket ${Date.now()}`;
  await raiseTicket(client, title);

  // The team, on the portal's own address, moves it along; the client sees it live.
  const teamContext = await browser.newContext();
  const team = await teamContext.newPage();
  await team.goto(`${portal.url}/local-board`);
  const teamRow = team.locator("tr", { hasText: title });
  await expect(teamRow).toBeVisible({ timeout: 10_000 });
  await teamRow.getByLabel(`Status of ${title}`).selectOption("In Progress");
  await Promise.all([
    team.waitForURL(/done=/),
    teamRow.getByRole("button", { name: `Set status of ${title}` }).click(),
  ]);
  await expect(client.getByTestId("toasts")).toContainText(`${title} is now In Progress`, { timeout: 5_000 });
  await expect(client.locator("li", { hasText: title }).locator("[data-status]")).toHaveAttribute(
    "data-status",
    "in_progress",
  );

  await clientContext.close();
  await teamContext.close();
});
