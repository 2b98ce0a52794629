import { test, expect, hydrated } from "./fixtures";

test("the login page only reacts to a click once the wasm has loaded", async ({ page }) => {
  let release!: () => void;
  const wasmHeld = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await wasmHeld;
    await route.continue();
  });

  await page.goto("/login");
  const toggle = page.getByRole("button", { name: "Trouble signing in?" });
  const help = page.getByText("Links work once and for one hour");
  await expect(toggle).toBeVisible();

  // Server-rendered HTML alone: the click does nothing.
  await toggle.click();
  await expect(help).toBeHidden();
  await expect(toggle).toHaveAttribute("aria-expanded", "false");

  release();
  await hydrated(page);
  await toggle.click();
  await expect(help).toBeVisible();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
});

test("health endpoints answer", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect((await ready.json()).monday.ok).toBe(true);
});

test("every text and wasm asset travels compressed when the browser asks", async ({ request }) => {
  for (const path of ["/pkg/client_portal.js", "/pkg/client_portal.wasm", "/pkg/client_portal.css", "/login"]) {
    for (const [asked, expected] of [
      ["br, gzip", "br"],
      ["gzip", "gzip"],
    ]) {
      const response = await request.get(path, { headers: { "accept-encoding": asked } });
      expect(response.status(), path).toBe(200);
      expect(response.headers()["content-encoding"], `${path} (${asked})`).toBe(expected);
      expect(response.headers()["vary"] ?? "", path).toContain("accept-encoding");
    }
  }
});
