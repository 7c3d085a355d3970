import { chromium } from 'playwright-core';
const origin = 'http://127.0.0.1:18555';
const [, , ...paths] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
await page.goto(origin + '/login');
await page.fill('#login', 'admin');
await page.fill('#password', 'admin-password-123');
await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type="submit"]')]);
let i = 0;
for (const p of paths) {
  const res = await page.goto(origin + p);
  i++;
  await page.screenshot({ path: `/tmp/shots/${i}.png`, fullPage: true });
  console.log(i, p, res.status());
}
await browser.close();
