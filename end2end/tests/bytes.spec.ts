import type { CDPSession, Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { signIn } from "./helpers";

// Bytes on the wire, as deployed: the release build (files named by their content, compressed at
// build time), measured in Chromium by what crossed the network. `./scripts/test` runs this file
// against the release binary after the release build; the debug suite skips it (its wasm is
// unoptimised and its file names carry no hash).
test.skip(process.env.LEPTOS_HASH_FILES !== "true", "runs against the release build only");

/** Counts the bytes every response of `page` transfers (headers and encoded body). */
async function meter(page: Page): Promise<{ session: CDPSession; total: () => number; reset: () => void }> {
  const session = await page.context().newCDPSession(page);
  await session.send("Network.enable");
  let bytes = 0;
  session.on("Network.loadingFinished", (event) => {
    bytes += event.encodedDataLength;
  });
  return { session, total: () => bytes, reset: () => (bytes = 0) };
}

async function settled(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "Live");
  await page.waitForLoadState("networkidle");
}

test("a first signed-in dashboard visit transfers under 230 KB, a repeat visit under 20 KB", async ({
  browser,
  baseURL,
}) => {
  // Signed in elsewhere; the visit measured starts with the cookie and an empty cache.
  const signing = await browser.newContext();
  const signingPage = await signing.newPage();
  await signIn(signingPage, "demo", "jordan@demo.example");
  const cookies = await signing.cookies();
  await signing.close();

  const context = await browser.newContext();
  await context.addCookies(cookies);
  const page = await context.newPage();
  const wire = await meter(page);
  await page.goto(`${baseURL}/dashboard`);
  await settled(page);
  const first = wire.total();
  console.log(`first signed-in dashboard visit: ${(first / 1024).toFixed(1)} KB`);
  expect(first).toBeLessThan(230 * 1024);

  wire.reset();
  await page.goto(`${baseURL}/dashboard`);
  await settled(page);
  const repeat = wire.total();
  console.log(`repeat visit: ${(repeat / 1024).toFixed(1)} KB`);
  expect(repeat).toBeLessThan(20 * 1024);
  await context.close();
});

test("the site's files carry their content's hash, travel compressed and are cached for a year", async ({
  page,
  request,
}) => {
  await page.goto("/login");
  const linked = await page.evaluate(() =>
    [...document.querySelectorAll("link[href^='/pkg/']")].map((link) => link.getAttribute("href") ?? ""),
  );
  const assets = new Set(linked);
  expect([...assets].some((href) => /\.css$/.test(href)), linked.join(" ")).toBeTruthy();
  expect([...assets].some((href) => /\.wasm$/.test(href)), linked.join(" ")).toBeTruthy();
  expect([...assets].some((href) => /\.js$/.test(href)), linked.join(" ")).toBeTruthy();
  for (const href of assets) {
    expect(href, "named by its content").toMatch(/^\/pkg\/client_portal\.[A-Za-z0-9_-]{22}\.(css|js|wasm)$/);
    const response = await request.get(href, { headers: { "accept-encoding": "br, gzip" } });
    expect(response.status(), href).toBe(200);
    expect(response.headers()["content-encoding"], href).toBe("br");
    expect(response.headers()["cache-control"], href).toBe("public, max-age=31536000, immutable");
    expect(response.headers()["vary"] ?? "", href).toContain("accept-encoding");
  }
  // The page itself is private and compressed.
  const login = await request.get("/login", { headers: { "accept-encoding": "br, gzip" } });
  expect(login.headers()["content-encoding"]).toBe("br");
  expect(login.headers()["cache-control"]).toBe("no-store");
});
