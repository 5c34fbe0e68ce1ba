import { chromium } from 'playwright-core';
import fs from 'node:fs';
const base = process.argv[2];
const accounts = JSON.parse(fs.readFileSync(process.argv[3]));
const width = Number(process.argv[4] || 320);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
const found = new Map();
for (const acc of [null, ...accounts]) {
  const ctx = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await ctx.newPage();
  if (acc) {
    await page.goto(base + '/sign-in');
    await page.fill('#email', acc.email); await page.fill('#password', acc.password);
    await Promise.all([page.waitForLoadState('load'), page.locator('form').filter({ has: page.locator('#password') }).getByRole('button', { name: 'Sign in', exact: true }).click()]);
  }
  const seen = new Set(); const queue = ['/']; let n = 0;
  while (queue.length && n < 45) {
    const p = queue.shift(); if (seen.has(p)) continue; seen.add(p); n++;
    let r; try { r = await page.goto(base + p); } catch { continue; }
    const info = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
      links: [...document.querySelectorAll('a[href^="/"]')].map(a => a.getAttribute('href')).filter(h => !h.startsWith('/assets') && !h.includes('sign-out') && !h.includes('.csv') && !h.includes('download')),
      wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0,3).map(e => e.tagName + '.' + e.className) }));
    if (info.sw > info.cw) { const key = p.replace(/[0-9a-f-]{36}/g, '{id}'); if (!found.has(key)) { found.set(key, `${acc?.role||'anon'} ${p} ${info.sw}>${info.cw} ${info.wide.join(' | ')}`); await page.screenshot({ path: `/tmp/shots/over-${found.size}.png`, fullPage: false }); } }
    for (const l of info.links) { const u = l.split('#')[0]; if (!seen.has(u)) queue.push(u); }
  }
  await ctx.close();
}
for (const v of found.values()) console.log(v);
await browser.close();
