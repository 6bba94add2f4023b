// The reviewer's console in real headless Chromium: log in, find the flagged card in the
// queue, open its evidence (the photo with the outline drawn over it, the checks, what was
// read beside what was typed — in full here), and ask for the card again with a reason.
// node review.mjs BASE_URL ARTIFACTS_DIR USERNAME PASSWORD MATERIAL_ID THEIR_ID_NUMBER
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, artifacts, username, password, materialId, theirNumber] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let page;
try {
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  await page.goto(base + "/review");
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#signin");
  const row = await page.waitForSelector(`#queue tr[data-id="${materialId}"]`, { timeout: 10000 });
  if (!(await row.textContent()).includes("ocr_mismatch")) throw new Error("the queue row does not say ocr_mismatch");
  await page.screenshot({ path: join(artifacts, "10-review-queue.png"), fullPage: true });
  await row.click();
  const idRow = await page.waitForSelector('#read-vs-typed tr[data-field="id_number"]', { timeout: 10000 });
  const idText = await idRow.textContent();
  if (!idText.includes(theirNumber) || !idText.includes("11010119900307803X")) throw new Error(`the evidence shows ${idText}`);
  await page.waitForSelector('#evidence-image[data-boxes="1"]', { timeout: 10000 });
  await page.screenshot({ path: join(artifacts, "11-review-evidence.png"), fullPage: true });
  await page.selectOption("#reasons", ["ocr_mismatch"]);
  await page.click("#ask-again");
  await page.waitForSelector('#decision-result[data-state="retake"]', { timeout: 10000 });
  await page.screenshot({ path: join(artifacts, "12-review-asked-again.png"), fullPage: true });
  console.log("review flow: ok");
} catch (e) {
  if (page) await page.screenshot({ path: join(artifacts, "failed-review.png"), fullPage: true }).catch(() => {});
  writeFileSync(join(artifacts, "review-error.txt"), String(e && e.stack || e));
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
