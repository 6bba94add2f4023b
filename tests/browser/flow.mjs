// The filer's journey in real headless Chromium: the PC page shows a QR code that decodes to
// the phone link; a phone-sized window opens that link and uploads a good and a blurred
// photo; both pages then show "pass" and "retake" with the reason. Then the face check: the
// phone asks for consent, opens the front camera and prompts two actions; the camera is a
// fake at the browser's edge (a canvas stream showing, from CAMERA_DIR, the picture of the
// pose the current prompt asks for), and the page must get "pass". Screenshots of each step
// go to the artifacts directory.
// node flow.mjs BASE_URL ARTIFACTS_DIR GOOD.jpg BLURRED.jpg CAMERA_DIR
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { PNG } from "pngjs";

const [base, artifacts, goodPhoto, blurredPhoto, cameraDir] = process.argv.slice(2);
// name → data URL of the camera's pictures (neutral, turn_left-half, turn_left-peak, ...).
const cameraFrames = Object.fromEntries(readdirSync(cameraDir).map(f =>
  [f.replace(/\.jpg$/, ""), "data:image/jpeg;base64," + readFileSync(join(cameraDir, f)).toString("base64")]));

/// Replaces the front camera with a canvas stream that shows the pose the page's prompt asks
/// for at each step (the page sets data-action and data-step on #face-prompt).
function fakeCamera(frames) {
  const images = {};
  for (const [name, url] of Object.entries(frames)) { const img = new Image(); img.src = url; images[name] = img; }
  const current = () => {
    const prompt = document.getElementById("face-prompt");
    if (!prompt || !prompt.dataset.action) return "neutral";
    const action = prompt.dataset.action;
    const stages = action === "come_closer" ? ["half", "peak", "peak", "peak", "peak"] : ["half", "peak", "peak", "half", "neutral"];
    const stage = stages[Number(prompt.dataset.step || 0)];
    return stage === "neutral" ? "neutral" : action + "-" + stage;
  };
  const getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 640;
    const g = canvas.getContext("2d");
    const draw = () => { const img = images[current()]; if (img && img.complete) g.drawImage(img, 0, 0, 480, 640); };
    draw();
    setInterval(draw, 30);
    return canvas.captureStream(30);
  };
  Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia }, configurable: true });
}
mkdirSync(artifacts, { recursive: true });
const shot = async (page, name) => page.screenshot({ path: join(artifacts, name), fullPage: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let pc, phone;
try {
  pc = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  await pc.goto(base + "/");
  await pc.fill("#username", "browser_filer");
  await pc.fill("#password", "correct horse battery");
  await pc.click("#register");
  await pc.waitForSelector("#form:not(.hidden)");
  const fields = {
    "subject.name": "张三", "subject.certificate.number": "11010119900307803X", "subject.address": "北京市东城区东华门街道1号",
    "subject.principal.name": "张三", "subject.principal.id_number": "11010119900307803X", "subject.principal.mobile": "13800138000",
    "subject.principal.email": "zhangsan@example.cn", "services.0.name": "张三的读书笔记", "services.0.domains.0": "zhangsan-notes.cn",
  };
  for (const [path, value] of Object.entries(fields)) await pc.fill(`[data-path="${path}"]`, value);
  await shot(pc, "01-pc-form.png");
  await pc.click("#create");
  await pc.waitForSelector("#order:not(.hidden)");
  await shot(pc, "02-pc-order.png");

  await pc.click("#upload");
  const qr = await pc.waitForSelector("#qr svg");
  const png = PNG.sync.read(await qr.screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!decoded) throw new Error("the QR code on the PC page does not decode");
  const link = decoded.data;
  const shown = await pc.textContent("#link");
  if (!link.includes("/m/") || link !== shown) throw new Error(`QR decodes to ${link}, the page shows ${shown}`);
  await shot(pc, "03-pc-qr.png");

  phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  await phone.addInitScript(fakeCamera, cameraFrames);
  await phone.goto(link);
  await phone.waitForSelector('section[data-kind="id_card_front"]');
  await shot(phone, "04-phone-steps.png");
  await phone.setInputFiles('input[data-kind="id_card_front"]', goodPhoto);
  await phone.waitForSelector('section[data-kind="id_card_front"][data-state="pass"]', { timeout: 60000 });
  await phone.setInputFiles('input[data-kind="id_card_back"]', blurredPhoto);
  await phone.waitForSelector('section[data-kind="id_card_back"][data-state="retake"]', { timeout: 60000 });
  const reason = await phone.textContent('section[data-kind="id_card_back"] .reasons');
  if (!reason.includes("照片模糊")) throw new Error(`the phone shows ${reason}`);
  await shot(phone, "05-phone-verdicts.png");

  await pc.waitForSelector('tr[data-kind="id_card_front"][data-state="pass"]', { timeout: 60000 });
  // What OCR read on the card, beside what was typed (the ID number masked).
  const readName = await pc.waitForSelector('#read-fields tr[data-kind="id_card_front"][data-field="name"]', { timeout: 60000 });
  const readText = await readName.textContent();
  if (!readText.includes("张三") || !readText.includes("与填写一致")) throw new Error(`the PC shows ${readText} for the name read`);
  const readId = await pc.textContent('#read-fields tr[data-field="id_number"]');
  if (!readId.includes("110101********803X")) throw new Error(`the PC shows ${readId} for the ID number read`);
  await pc.waitForSelector('tr[data-kind="id_card_back"][data-state="retake"]', { timeout: 60000 });
  const row = await pc.textContent('tr[data-kind="id_card_back"]');
  if (!row.includes("照片模糊")) throw new Error(`the PC shows ${row}`);
  await shot(pc, "06-pc-verdicts.png");

  // The face check: consent first, then the camera and the two prompts.
  await phone.click("#face-start");
  await phone.waitForSelector("#face-consent");
  const consent = await phone.textContent("#face-consent");
  if (!consent.includes("敏感个人信息")) throw new Error(`the consent says ${consent}`);
  await shot(phone, "07-phone-face-consent.png");
  await phone.click("#face-agree");
  await phone.waitForSelector("#face-prompt[data-action]", { timeout: 10000 });
  await shot(phone, "08-phone-face-prompt.png");
  await phone.waitForSelector('section[data-kind="face"][data-state="pass"]', { timeout: 60000 });
  await shot(phone, "09-phone-face-pass.png");
  await pc.waitForSelector('tr[data-kind="face"][data-state="pass"]', { timeout: 60000 });
  console.log("browser flow: ok");
} catch (e) {
  if (pc) await shot(pc, "failed-pc.png").catch(() => {});
  if (phone) await shot(phone, "failed-phone.png").catch(() => {});
  writeFileSync(join(artifacts, "error.txt"), String(e && e.stack || e));
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
