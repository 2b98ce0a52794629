import * as fs from "node:fs";
import { test, expect, hydrated } from "./fixtures";
import { freshPortal, signIn } from "./helpers";

/** A PNG's signature and header, then bytes that make it this file's own. */
function png(extra: number, seed: number): Buffer {
  const head = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
  const body = Buffer.alloc(extra);
  for (let i = 0; i < extra; i++) body[i] = (i * 31 + seed) & 0xff;
  return Buffer.concat([head, body]);
}

function pdf(extra: number): Buffer {
  const body = Buffer.alloc(extra);
  for (let i = 0; i < extra; i++) body[i] = 97 + (i % 26);
  return Buffer.concat([Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1"), body]);
}

/** Opens the team console's page of the item titled `title`. */
async function consoleItem(team: import("@playwright/test").Page, title: string) {
  await team.goto("/local-board");
  await team.locator("tr", { hasText: title }).getByRole("link", { name: title }).click();
  await expect(team.getByRole("heading", { level: 1, name: title })).toBeVisible();
}

test("a pasted screenshot and a PDF go with a new ticket, and the team's file comes back live", async ({ page, browser }) => {
  const portal = freshPortal("files");
  await signIn(page, portal, "pat@files.example", "Pat");
  await hydrated(page);
  const title = `Checkout broken ${Date.now()}`;
  await page.getByRole("main").getByRole("link", { name: "New ticket" }).click();
  const dialog = page.getByRole("dialog", { name: "New ticket" });
  await dialog.getByLabel("Title").fill(title);

  // A screenshot pasted from the clipboard, then a PDF from the picker.
  const shot = png(40_000, 3).toString("base64");
  await dialog.getByLabel("Title").evaluate((input, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
    input.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
    );
  }, shot);
  const report = pdf(700_000);
  await dialog.getByLabel("Attach files").setInputFiles({
    name: "invoice.pdf",
    mimeType: "application/pdf",
    buffer: report,
  });
  const chosen = dialog.getByTestId("chosen-file");
  await expect(chosen).toHaveCount(2);
  await expect(chosen.nth(0)).toContainText("image.png");
  await expect(chosen.nth(0).getByTestId("preview")).toBeVisible();
  await expect(chosen.nth(1)).toContainText("invoice.pdf");
  await expect(chosen.nth(1)).toContainText("684 KB");

  // A slow connection, so the progress of each file can be seen.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: 250_000,
  });
  await dialog.getByRole("button", { name: "Create ticket" }).click();
  await expect(dialog.getByTestId("upload-progress").first()).toBeVisible();
  await expect(dialog).toBeHidden({ timeout: 20_000 });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });

  // On the ticket page, both files, delivered; the image with its thumbnail.
  const row = page.locator("li", { hasText: title });
  await expect(row.locator("[data-delivery]")).toHaveCount(0, { timeout: 15_000 });
  await row.getByRole("link", { name: title }).click();
  const files = page.getByTestId("file");
  await expect(files).toHaveCount(2);
  await expect(files.nth(0).locator("img")).toBeVisible();
  await expect(page.getByTestId("file-state")).toHaveCount(0, { timeout: 15_000 });

  // The team sees both on the item, and answers with a file.
  const team = await browser.newPage();
  await consoleItem(team, title);
  await expect(team.getByTestId("console-file")).toHaveCount(2);
  await expect(team.getByTestId("console-file").filter({ hasText: "image.png" })).toBeVisible();
  await expect(team.getByTestId("console-file").filter({ hasText: "invoice.pdf" })).toBeVisible();
  const answer = pdf(30_000);
  await team.getByLabel("Message", { exact: true }).fill("Here is the corrected invoice.");
  await team.getByLabel(/Attach a file/).setInputFiles({
    name: "corrected.pdf",
    mimeType: "application/pdf",
    buffer: answer,
  });
  await team.getByRole("button", { name: "Reply to client" }).click();
  await expect(team.getByText("Message posted with corrected.pdf")).toBeVisible();
  await team.close();

  // Pat sees it without reloading, and downloads the exact bytes.
  const conversation = page.getByTestId("conversation");
  await expect(conversation).toContainText("Here is the corrected invoice.", { timeout: 10_000 });
  const link = conversation.getByRole("link", { name: /Download corrected\.pdf/ });
  await expect(link).toBeVisible({ timeout: 15_000 });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toBe("corrected.pdf");
  const saved = await download.path();
  expect(fs.readFileSync(saved!).equals(answer)).toBe(true);
});

test("files go with a ticket and a message without JavaScript, and limits are told in both modes", async ({ browser, page }) => {
  const portal = freshPortal("nojsfiles");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await signIn(plain, portal, "noel@files.example", "Noel");
  await plain.goto("/tickets/new");
  const title = `No-JS files ${Date.now()}`;
  await plain.getByLabel("Title").fill(title);
  const shot = png(20_000, 5);
  const report = pdf(50_000);
  await plain.getByLabel("Attach files").setInputFiles([
    { name: "screen.png", mimeType: "image/png", buffer: shot },
    { name: "report.pdf", mimeType: "application/pdf", buffer: report },
  ]);
  await plain.getByRole("button", { name: "Create ticket" }).click();
  await expect(plain).toHaveURL(/\/dashboard\?created=1/);
  await plain.getByRole("link", { name: title }).click();
  await expect(plain.getByTestId("file")).toHaveCount(2);
  const href = await plain.getByRole("link", { name: /Download report\.pdf/ }).getAttribute("href");
  const got = await plain.request.get(href!);
  expect(got.headers()["content-disposition"]).toMatch(/^attachment/);
  expect(Buffer.from(await got.body()).equals(report)).toBe(true);

  // The team's console shows both on the item.
  const team = await browser.newPage();
  await consoleItem(team, title);
  await expect(team.getByTestId("console-file")).toHaveCount(2);
  await team.close();

  // A message with a file, without JavaScript.
  await plain.reload();
  await plain.getByLabel("Your message").fill("The log is attached.");
  await plain.getByLabel("Attach files").setInputFiles({
    name: "steps.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("1. open the page\n2. press pay\n"),
  });
  await plain.getByRole("button", { name: "Send reply" }).click();
  await expect(plain.getByTestId("conversation")).toContainText("The log is attached.");
  await expect(plain.getByTestId("conversation").getByTestId("file")).toContainText("steps.txt");

  // The team answers with a file: without JavaScript it is there on the next load, and its
  // download has the team's exact bytes.
  const answering = await browser.newPage();
  await consoleItem(answering, title);
  const answer = pdf(12_000);
  await answering.getByLabel("Message", { exact: true }).fill("Here is what we changed.");
  await answering.getByLabel(/Attach a file/).setInputFiles({
    name: "changes.pdf",
    mimeType: "application/pdf",
    buffer: answer,
  });
  await answering.getByRole("button", { name: "Reply to client" }).click();
  await expect(answering.getByText("Message posted with changes.pdf")).toBeVisible();
  await answering.close();
  const teamLink = plain
    .getByTestId("conversation")
    .getByRole("link", { name: /Download changes\.pdf/ });
  await expect(async () => {
    await plain.reload();
    await expect(teamLink).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const teamFile = await plain.request.get((await teamLink.getAttribute("href"))!);
  expect(teamFile.headers()["content-disposition"]).toMatch(/^attachment/);
  expect(Buffer.from(await teamFile.body()).equals(answer)).toBe(true);

  // Too large, without JavaScript: the page says which file and the limit; nothing is kept.
  const huge = Buffer.alloc(26 * 1024 * 1024, 1);
  await plain.goto("/tickets/new");
  await plain.getByLabel("Title").fill(`Too big ${Date.now()}`);
  await plain.getByLabel("Attach files").setInputFiles({
    name: "huge.png",
    mimeType: "image/png",
    buffer: Buffer.concat([png(0, 1), huge]),
  });
  await plain.getByRole("button", { name: "Create ticket" }).click();
  await expect(plain).toHaveURL(/\/tickets\/new\?error=files/);
  await expect(plain.getByRole("alert")).toContainText("“huge.png” is larger than 25 MB");
  await context.close();

  // ...and with it, before anything is sent.
  await signIn(page, portal, "noel@files.example");
  await hydrated(page);
  await page.getByRole("main").getByRole("link", { name: "New ticket" }).click();
  const dialog = page.getByRole("dialog", { name: "New ticket" });
  await dialog.getByLabel("Attach files").setInputFiles({
    name: "huge.png",
    mimeType: "image/png",
    buffer: Buffer.concat([png(0, 1), huge]),
  });
  await expect(dialog.getByTestId("file-problem")).toContainText("“huge.png” is larger than 25 MB");
  await expect(dialog.getByTestId("chosen-file")).toHaveCount(0);
});
