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
