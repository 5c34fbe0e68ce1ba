import { chromium } from 'playwright-core';
import fs from 'node:fs';
const [,, base, email, path, out, width] = process.argv;
const accounts = JSON.parse(fs.readFileSync('/tmp/lead/accounts.json'));
const acc = accounts.find(a => a.email === email);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
const page = await browser.newPage({ viewport: { width: Number(width || 1024), height: 900 } });
await page.goto(base + '/sign-in');
await page.fill('#email', acc.email);
await page.fill('#password', acc.password);
await Promise.all([page.waitForNavigation(), page.locator('form').filter({ has: page.locator('#password') }).getByRole('button', { name: 'Sign in', exact: true }).click()]);
const r = await page.goto(base + path);
console.log('status', r.status(), page.url());
await page.screenshot({ path: out, fullPage: true });
if (process.env.SECTIONS) { const secs = await page.locator('main h1, section.ensemble-report-section').all(); let i = 0; for (const s of secs) { await s.screenshot({ path: out.replace('.png', `-s${i++}.png`) }); } }
if (process.env.PDF) { await page.emulateMedia({ media: 'print' }); await page.pdf({ path: process.env.PDF, format: 'A4' }); }
await browser.close();
