import { chromium } from 'playwright-core';
import fs from 'node:fs';
const [,, base, accFile, role, path, width, out] = process.argv;
const accounts = JSON.parse(fs.readFileSync(accFile));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--no-first-run'] });
const ctx = await browser.newContext({ viewport: { width: Number(width), height: 900 } });
const page = await ctx.newPage();
const acc = accounts.find(a => a.role === role);
if (acc) { await page.goto(base + '/sign-in'); await page.fill('#email', acc.email); await page.fill('#password', acc.password);
  await Promise.all([page.waitForLoadState('load'), page.locator('form').filter({ has: page.locator('#password') }).getByRole('button', { name: 'Sign in', exact: true }).click()]); }
await page.goto(base + path);
const wide = await page.evaluate(() => [...document.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible').map(e => `${e.tagName}.${e.className} sw=${e.scrollWidth} cw=${e.clientWidth}`).slice(-6));
console.log(wide.join('\n'));
await page.screenshot({ path: out, fullPage: true });
await browser.close();
