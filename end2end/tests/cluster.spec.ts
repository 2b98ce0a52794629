import * as fs from "node:fs";
import * as path from "node:path";
import { test, expect, hydrated } from "./fixtures";
import { raiseTicket, signIn } from "./helpers";
import {
  freePort,
  freshPostgresDatabase,
  portalCommand,
  startLocalBoard,
  startNginx,
  startPortal,
  type LocalBoardProcess,
  type Portal,
  type Proxy,
} from "../servers";

// Two portal instances on one PostgreSQL and one shared `monday-local`, behind Debian's nginx
// balancing between them round robin, the way deploy/compose.yaml runs them. monday's webhooks
// are registered at the public URL, so they too reach either instance. Needs the suite's
// PostgreSQL (./scripts/test starts one for the browser tests too).
const database = freshPostgresDatabase();
test.skip(!database, "two instances share PostgreSQL: run through ./scripts/test");

let board: LocalBoardProcess;
let instances: Portal[] = [];
let proxy: Proxy;
let shared: Record<string, string>;

test.beforeAll(async () => {
  board = await startLocalBoard();
  const port = await freePort();
  shared = {
    DATABASE_URL: database!,
    MONDAY_API_URL: board.url,
    MONDAY_API_TOKEN: board.token,
    MONDAY_BOARD_ID: board.board,
    MONDAY_WEBHOOK_SECRET: "e2e-cluster-webhook-secret-2026",
    JWT_SECRET: "e2e-cluster-jwt-secret-0123456789abcdef0123456789",
    PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TRUSTED_PROXIES: "127.0.0.1",
  };
  instances = [await startPortal(shared), await startPortal(shared)];
  proxy = await startNginx(
    port,
    instances.map((i) => i.address),
  );
  // The agency's set-up step: columns checked, webhooks registered at the public URL.
  portalCommand(["setup-board"], { ...shared, DATA_DIR: instances[0].dataDir });
});

test.afterAll(() => {
  proxy?.stop();
  for (const instance of instances) instance.stop();
  board?.stop();
});

test("behind a balancer two instances serve one client: sign in, a new ticket, the team's change live", async ({
  browser,
  request,
}) => {
  const context = await browser.newContext();
  const client = await context.newPage();
  await signIn(client, "demo", "jordan@demo.example", undefined, {
    url: proxy.url,
    dataDir: instances[0].dataDir,
    env: shared,
  });
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");

  const title = `Cluster ticket ${Date.now()}`;
  await raiseTicket(client, title, 15_000);

  // Every page load and server call is balanced over both instances.
  for (let i = 0; i < 4; i++) {
    await client.reload();
    await expect(client.locator("li", { hasText: title })).toBeVisible();
  }
  await hydrated(client);
  await expect(client.getByTestId("live-state")).toHaveAttribute("data-state", "Live");

  // The team moves it along in monday; the webhook reaches one instance, the socket may be on
  // the other.
  const href = await client.locator("li", { hasText: title }).locator('a[href^="/tickets/"]').first().getAttribute("href");
  const itemId = Number(href!.split("/").pop());
  expect(itemId).toBeGreaterThan(0);
  const changed = await request.post(`${board.control}/team`, {
    headers: { authorization: board.token },
    data: { action: "change_columns", item_id: itemId, column_values: { status: { label: "In Progress" } } },
  });
  expect(changed.ok()).toBeTruthy();
  await expect(client.getByTestId("toasts")).toContainText(`${title} is now In Progress`, { timeout: 5_000 });
  await expect(client.locator("li", { hasText: title }).locator("[data-status]")).toHaveAttribute(
    "data-status",
    "in_progress",
  );

  // Both instances answered the client's requests.
  for (const instance of instances) {
    const log = fs.readFileSync(path.join(instance.dataDir, "server.log"), "utf8");
    expect(log, `instance ${instance.address} served requests`).toContain("path=/");
  }
  await context.close();
});
