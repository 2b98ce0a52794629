import { test as base, expect } from "@playwright/test";

/** Every test talks to the portal global-setup started. */
export const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.PORTAL_URL;
    if (!url) throw new Error("PORTAL_URL is not set: global-setup did not run");
    await use(url);
  },
});

export { expect };

/** Waits until the browser bundle has taken over the server-rendered page. */
export async function hydrated(page: import("@playwright/test").Page) {
  await page.waitForSelector("html[data-hydrated]", { state: "attached" });
}
