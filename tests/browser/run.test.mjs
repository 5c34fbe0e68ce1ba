// Browser tests for the Ensemble web UI: accessibility (axe-core), console
// errors, status codes, screenshots, and a signed-in crawl for every role.
//
// Run with `node --test` (Node 20+). See README.md in this folder.
//
// Environment:
//   BASE_URL        server under test (default http://127.0.0.1:18080)
//   ACCOUNTS_FILE   JSON array [{ "role", "email", "password" }, ...]; the
//                   signed-in tests are skipped when it is not set
//   SCREENSHOT_DIR  where PNGs go (default ../../target/screenshots, relative
//                   to this file)
//   CHROMIUM_PATH   browser binary (default /usr/bin/chromium)
//   MAX_PAGES       crawl cap per role (default 80)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const ORIGIN = new URL(BASE_URL).origin;
const SCREENSHOT_DIR = path.resolve(HERE, process.env.SCREENSHOT_DIR || '../../target/screenshots');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const MAX_PAGES = Number(process.env.MAX_PAGES || 80);

const ROLES = [
  'participant',
  'practitioner',
  'link_worker',
  'clinician',
  'programme_manager',
  'researcher',
  'commissioner',
  'administrator',
  'co_researcher',
];

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

// Paths the crawler never follows.
const SKIP_PREFIXES = ['/sign-out', '/assets/', '/api/', '/openreferral/', '/practice/portfolio/certificates/'];
const SKIP_EXACT = ['/metrics', '/healthz', '/readyz', '/api', '/openreferral'];
// Files, not pages: feeds are checked by tests/feeds/atom.py, CSV, images and zip packages by
// the integration suite and tests/evaluation/recompute.py.
const SKIP_SUFFIX = /\.(json|csv|svg|png|atom|xml|zip)$/i;

function loadAccounts() {
  const file = process.env.ACCOUNTS_FILE;
  if (!file) return null;
  const list = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(Array.isArray(list), 'ACCOUNTS_FILE must hold a JSON array');
  return new Map(list.map((a) => [a.role, a]));
}

const ACCOUNTS = loadAccounts();
const NO_ACCOUNTS = ACCOUNTS ? false : 'ACCOUNTS_FILE is not set';

/** @type {import('playwright-core').Browser} */
let browser;
/** Signed-in contexts by role, filled by the sign-in tests. */
const sessions = new Map();

before(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  for (const ctx of sessions.values()) await ctx.close().catch(() => {});
  await browser?.close();
});

function newContext() {
  return browser.newContext({
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
  });
}

function url(p) {
  return new URL(p, BASE_URL + '/').href;
}

function slug(u) {
  const { pathname, search } = new URL(u);
  const s = (pathname + search)
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
  return s || 'home';
}

/**
 * Navigate with GET and collect console errors / page errors raised during
 * the load. Returns { response, errors }.
 */
async function load(page, target) {
  const errors = [];
  const onConsole = (msg) => {
    if (msg.type() === 'error') errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url });
  };
  const onPageError = (err) => errors.push({ kind: 'pageerror', text: String(err?.stack || err) });
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  let response = null;
  try {
    response = await page.goto(target, { waitUntil: 'load' });
    // Let any queued module-script microtasks/errors surface.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
  }
  return { response, errors };
}

/** Chromium logs "Failed to load resource: ... status of 404" for the
 * document itself when its status is an error; that is expected on error pages. */
function relevantErrors(errors, page, expectErrorStatus) {
  if (!expectErrorStatus) return errors;
  const docUrl = page.url();
  return errors.filter(
    (e) =>
      !(
        e.kind === 'console' &&
        /^Failed to load resource: the server responded with a status of [45]\d\d/.test(e.text) &&
        (!e.url || e.url === docUrl)
      ),
  );
}

async function runAxe(page) {
  // Legacy mode runs axe.run() inside the page itself (about 2.5x faster than
  // the default runPartial/finishRun, which opens an extra blank page per
  // call). It only loses cross-origin iframe support, which our CSP rules out.
  // WCAG 2.2 A and AA, target size, and axe's best-practice rules (landmarks
  // such as `region`, `heading-order`, one main, unique landmark names…).
  const results = await new AxeBuilder({ page })
    .setLegacyMode(true)
    .options({ rules: { 'target-size': { enabled: true } } })
    .withTags([...AXE_TAGS, 'best-practice'])
    .analyze();
  return results.violations.map(
    (v) => `axe ${v.id} (${v.impact}): ${v.help} — first node: ${JSON.stringify(v.nodes[0]?.target)} [${v.nodes.length} node(s)]`,
  );
}

const NARROW = { width: 320, height: 640 };

/**
 * Whether the page now open scrolls sideways. Waits for fonts and two animation frames so
 * the layout is settled, compares the document's scroll width with its client width and,
 * when it overflows, names the widest element sticking out past the right edge (outside
 * any element that scrolls or clips on its own, such as the table wrapper). Returns a
 * problem string or null.
 */
async function horizontalOverflow(page) {
  return page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const root = document.documentElement;
    const limit = root.clientWidth;
    if (root.scrollWidth <= limit) return null;
    const clipped = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
      }
      return false;
    };
    let worst = null;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= limit + 0.5 || r.width === 0 || clipped(el)) continue;
      if (!worst || r.width > worst.width) worst = { el, width: r.width, right: r.right };
    }
    const describe = (el) => {
      let s = el.tagName.toLowerCase();
      if (el.id) s += `#${el.id}`;
      if (typeof el.className === 'string' && el.className.trim()) s += `.${el.className.trim().split(/\s+/).join('.')}`;
      const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
      return text ? `${s} ("${text}")` : s;
    };
    const where = worst ? `; widest element past the edge: ${describe(worst.el)}, ${Math.round(worst.width)}px wide, right edge at ${Math.round(worst.right)}px` : '';
    return `scrolls sideways at ${limit}px: scrollWidth ${root.scrollWidth}px${where}`;
  });
}

/** Load `target` in `narrowPage` (a page of a context made at 320 px) and report sideways scrolling. */
async function checkNarrow(narrowPage, target, label) {
  try {
    await narrowPage.goto(target, { waitUntil: 'load' });
  } catch (err) {
    return [`${label} at ${NARROW.width}px: navigation failed: ${err.message.split('\n')[0]}`];
  }
  const problem = await horizontalOverflow(narrowPage);
  return problem ? [`${label}: ${problem}`] : [];
}

/** A context like `ctx` (same cookies, so the same account) whose pages open at 320 px. */
async function narrowContextLike(ctx) {
  return browser.newContext({
    baseURL: BASE_URL,
    viewport: NARROW,
    serviceWorkers: 'block',
    storageState: await ctx.storageState(),
  });
}

/**
 * The standard per-page checks. Returns a list of problem strings (empty = pass).
 * `expectStatus`: exact status expected, or 'any' (not checked; e.g. a form
 * re-rendered with 422); otherwise the status must be < 400.
 */
async function checkPage(page, { label, response, errors, expectStatus, screenshot }) {
  const problems = [];
  const where = page.url();
  const status = response ? response.status() : null;
  if (expectStatus === 'any') {
    // not checked
  } else if (expectStatus !== undefined) {
    if (status !== expectStatus) problems.push(`status ${status}, expected ${expectStatus}`);
  } else if (status === null || status >= 400) {
    problems.push(`status ${status}`);
  }

  const facts = await page.evaluate(() => ({
    title: document.title.trim(),
    h1: document.querySelectorAll('h1').length,
    // The NHS.UK stylesheet sets the html font-family; proves the CSS applied.
    styled: getComputedStyle(document.documentElement).fontFamily.includes('Frutiger'),
    // Added by /assets/js/init.js; proves our module script ran under the CSP.
    jsInit: document.body?.classList.contains('nhsuk-frontend-supported') ?? false,
  }));
  if (!facts.title) problems.push('empty <title>');
  if (facts.h1 < 1) problems.push('no <h1>');
  if (!facts.styled) problems.push('NHS.UK stylesheet not applied');
  if (!facts.jsInit) problems.push('<body> lacks nhsuk-frontend-supported (init.js did not run)');

  for (const e of relevantErrors(errors, page, expectStatus === 'any' || expectStatus >= 400)) {
    problems.push(`${e.kind}: ${e.text}${e.url ? ` (${e.url})` : ''}`);
  }

  problems.push(...(await runAxe(page)));

  if (screenshot) {
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${screenshot}.png`), fullPage: true });
  }
  return problems.map((p) => `${label || where}: ${p}`);
}

function assertNoProblems(problems, t) {
  for (const p of problems) t.diagnostic(p);
  assert.deepEqual(problems, [], `\n  ${problems.join('\n  ')}`);
}

async function signInButton(page) {
  return page
    .locator('form')
    .filter({ has: page.locator('#password') })
    .getByRole('button', { name: 'Sign in', exact: true });
}

/**
 * Click a submit button and wait for the resulting document to load.
 * Returns { response, errors } like load(): the final document response and
 * the console/page errors raised meanwhile.
 */
async function submit(page, button) {
  const errors = [];
  let response = null;
  const onConsole = (msg) => {
    if (msg.type() === 'error') errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url });
  };
  const onPageError = (err) => errors.push({ kind: 'pageerror', text: String(err?.stack || err) });
  const onResponse = (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) response = r;
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('response', onResponse);
  try {
    const nav = page.waitForEvent('framenavigated', {
      predicate: (f) => f === page.mainFrame(),
      timeout: 30_000,
    });
    await button.click();
    await nav;
    await page.waitForLoadState('load');
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    page.off('response', onResponse);
  }
  return { response, errors };
}

function shouldSkip(u) {
  const p = u.pathname;
  if (SKIP_EXACT.includes(p)) return true;
  if (SKIP_PREFIXES.some((pre) => p.startsWith(pre))) return true;
  if (SKIP_SUFFIX.test(p)) return true;
  return false;
}

async function collectLinks(page) {
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')));
  const out = [];
  for (const raw of hrefs) {
    if (!raw || raw.trim().startsWith('#')) continue;
    let u;
    try {
      u = new URL(raw.trim(), page.url());
    } catch {
      continue;
    }
    if (u.origin !== ORIGIN) continue;
    if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
    u.hash = '';
    if (shouldSkip(u)) continue;
    out.push(u.href);
  }
  return out;
}

function isSignInPage(u) {
  return new URL(u).pathname === '/sign-in';
}

// ---------------------------------------------------------------- anonymous

for (const [label, p] of [
  ['an empty directory search', '/activities?q=zzqqxxnothing&cost=free'],
  ['the directory map view', '/activities?postcode=L1+8JQ&distance=3&view=map'],
  ['the printable directory list', '/activities?postcode=L1+8JQ&distance=3&view=print'],
  ['a directory search with a malformed postcode', '/activities?postcode=NOTAPOSTCODE'],
]) {
  test(`anonymous: ${label} passes axe`, async (t) => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      const { response, errors } = await load(page, url(p));
      const problems = await checkPage(page, {
        label: p,
        response,
        errors,
        expectStatus: p.includes('NOTAPOSTCODE') ? 422 : undefined,
        screenshot: `anonymous--${slug(url(p))}`,
      });
      if (p.includes('zzqq')) {
        const text = await page.textContent('main');
        if (!/No activities found/.test(text) || !/start a new search/.test(text)) problems.push(`${p}: empty result does not say why or suggest a wider search`);
      }
      if (p.includes('view=map') && !(await page.$('svg[role="img"] title'))) problems.push(`${p}: no titled SVG map`);
      if (p.includes('NOTAPOSTCODE') && !(await page.$('.nhsuk-error-summary'))) problems.push(`${p}: no error summary`);
      assertNoProblems(problems, t);
    } finally {
      await ctx.close();
    }
  });
}

// The map view is the same search drawn differently: its numbered list (what the numbers on
// the map refer to) must hold the same activities, in the same order, with the same
// distances, as the list view, page by page. The map is reached through the list view's own
// "Map" link, so the link must keep the search.
const MAP_LIST_SEARCH = '/activities?postcode=L1+8JQ&distance=20'; // several pages of demo results

/** Every page of results from `start`: [{ id, name, distance }], the heading, the number of pages and problems. */
async function directoryResults(page, start, view) {
  const results = [];
  const problems = [];
  let heading = null;
  let target = start;
  let pages = 0;
  for (let n = 1; target; n += 1) {
    pages = n;
    if (n > 30) {
      problems.push(`${view}: more than 30 pages; stopped`);
      break;
    }
    const response = await page.goto(target, { waitUntil: 'load' });
    if (!response || response.status() !== 200) problems.push(`${view} page ${n}: status ${response?.status()}`);
    const pageHeading = (await page.textContent('#results'))?.trim() ?? null;
    if (heading === null) heading = pageHeading;
    else if (pageHeading !== heading) problems.push(`${view} page ${n}: heading "${pageHeading}", page 1 said "${heading}"`);
    const onPage =
      view === 'list'
        ? await page.$$eval('ul.ensemble-results > li', (cards) =>
            cards.map((card) => {
              const a = card.querySelector('a.nhsuk-card__link');
              const row = [...card.querySelectorAll('.nhsuk-summary-list__row')].find(
                (r) => r.querySelector('dt')?.textContent.trim() === 'Distance',
              );
              return { href: a?.getAttribute('href'), name: a?.textContent.trim(), distance: row?.querySelector('dd')?.textContent.trim() ?? null };
            }),
          )
        : await page.$$eval('ol.nhsuk-list--number > li', (items) =>
            items.map((li) => {
              const a = li.querySelector('a');
              const rest = li.textContent.slice((a?.textContent ?? '').length).trim();
              return { href: a?.getAttribute('href'), name: a?.textContent.trim(), distance: rest ? rest.replace(/^–\s*/, '') : null };
            }),
          );
    if (view === 'map') {
      // The map draws numbered points for this page's results only, and says how many.
      const map = await page.$$eval('svg.ensemble-map', (svgs) =>
        svgs.map((svg) => ({
          desc: svg.querySelector('desc')?.textContent ?? '',
          numbers: [...svg.querySelectorAll('g > text')].map((t) => Number(t.textContent.trim())),
        })),
      );
      if (map.length !== 1) problems.push(`map page ${n}: ${map.length} maps, want 1`);
      else {
        const m = /Map of (\d+) result/.exec(map[0].desc);
        if (!m || Number(m[1]) !== onPage.length) problems.push(`map page ${n}: the map says "${map[0].desc}" but the list under it has ${onPage.length}`);
        const stray = map[0].numbers.filter((x) => !(Number.isInteger(x) && x >= 1 && x <= onPage.length));
        if (stray.length) problems.push(`map page ${n}: points numbered ${stray.join(', ')} match no result in the list under the map`);
        if (onPage.length && !map[0].numbers.length) problems.push(`map page ${n}: no numbered points on the map`);
      }
    }
    for (const r of onPage) {
      const id = /^\/activities\/([^/?#]+)$/.exec(r.href || '')?.[1];
      if (!id) problems.push(`${view} page ${n}: result "${r.name}" links to ${r.href}, not /activities/{id}`);
      results.push({ id, name: r.name, distance: r.distance });
    }
    const next = await page.$('a.nhsuk-pagination__link--next');
    target = next ? new URL(await next.getAttribute('href'), page.url()).href : null;
  }
  return { results, heading, pages, problems };
}

test('anonymous: the map view of a directory search lists the same results in the same order as the list view', async (t) => {
  const ctx = await newContext();
  try {
    const page = await ctx.newPage();
    const list = await directoryResults(page, url(MAP_LIST_SEARCH), 'list');
    assert.ok(list.results.length >= 2, `the list view of ${MAP_LIST_SEARCH} has ${list.results.length} result(s); the comparison needs at least 2`);
    assert.ok(list.pages >= 2, `the list view of ${MAP_LIST_SEARCH} has ${list.pages} page(s); the comparison should cover paging too`);
    assert.ok(list.results.every((r) => r.distance), `every result of a postcode search shows a distance: ${JSON.stringify(list.results)}`);
    // The map link of the list view's first page: the search must survive the switch.
    await page.goto(url(MAP_LIST_SEARCH), { waitUntil: 'load' });
    const mapLink = page.locator('nav[aria-label="Ways to see the results"] a', { hasText: /^Map$/ });
    assert.equal(await mapLink.count(), 1, 'the list view has one "Map" link');
    const mapHref = new URL(await mapLink.getAttribute('href'), page.url()).href;
    assert.match(mapHref, /[?&]view=map(&|$)/, `the "Map" link ${mapHref} asks for the map view`);
    const map = await directoryResults(page, mapHref, 'map');
    t.diagnostic(`${list.heading}: ${list.results.length} results on ${list.pages} list pages and ${map.pages} map pages; map link ${mapHref}`);
    assertNoProblems([...list.problems, ...map.problems], t);
    assert.equal(map.heading, list.heading, 'the map view and the list view have the same results heading');
    assert.deepEqual(
      map.results.map((r, i) => `${i + 1}. ${r.name} (${r.id}) ${r.distance}`),
      list.results.map((r, i) => `${i + 1}. ${r.name} (${r.id}) ${r.distance}`),
      'the map view lists the same activities, in the same order and at the same distances, as the list view',
    );
  } finally {
    await ctx.close();
  }
});

// Issue 14 item 3: search and the map on a phone. At 390 and 1280 px: after a search the
// results come first, the form folded under a summary of what is applied; a search that
// finds nothing offers links that widen it (and they work); the map is drawn on the city
// region's districts with their names, the River Mersey, "you are here" and numbered
// markers in list order, big enough to read on a phone; an activity page has its own map,
// the next dates, a tappable phone number, directions by coordinates and "ask to join"
// leading to a pre-filled self-referral. The ward-only demo activity never appears to a
// visitor (list, map, Open Referral UK, its own page), while a link worker sees it and can
// "refer someone" to it.
test('search and the map on a phone: results first, widening links, a readable map, the activity page and a hidden ward-only group, at 390 and 1280 px', { skip: NO_ACCOUNTS, timeout: 6 * 60_000 }, async (t) => {
  const anon = await newContext();
  const staff = [];
  const strict = async (page, label, result, opts = {}) => {
    const problems = await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `map--${label}`, ...opts });
    const best = await new AxeBuilder({ page }).setLegacyMode(true).withRules(['region', 'heading-order']).analyze();
    problems.push(...best.violations.map((v) => `${label}: axe ${v.id}: ${v.help} — ${JSON.stringify(v.nodes[0]?.target)}`));
    // At the page's own width, then the same address opened in a context made 320 px wide
    // (resizing an open page and measuring at once gives false alarms).
    const wide = await horizontalOverflow(page);
    if (wide) problems.push(`${label}: ${wide}`);
    const narrow = await narrowContextLike(page.context());
    try {
      problems.push(...(await checkNarrow(await narrow.newPage(), page.url(), label)));
    } finally {
      await narrow.close();
    }
    assertNoProblems(problems, t);
  };
  const signIn = async (role) => {
    const account = ACCOUNTS.get(role);
    const ctx = await newContext();
    staff.push(ctx);
    const page = await ctx.newPage();
    await load(page, url('/sign-in'));
    await page.fill('#email', account.email);
    await page.fill('#password', account.password);
    await submit(page, await signInButton(page));
    assert.ok(!isSignInPage(page.url()), `${role} signed in`);
    return page;
  };
  try {
    // The ward-only demo activity's id, from its programme manager's list.
    const pm = await signIn('programme_manager');
    await load(pm, url('/manage/activities'));
    const wardLink = pm.getByRole('link', { name: 'Willow Ward Music Sessions' });
    assert.equal(await wardLink.count(), 1, 'the programme manager lists the ward-only activity');
    const wardId = /\/manage\/activities\/([^/?#]+)$/.exec(await wardLink.getAttribute('href'))[1];
    await load(pm, url(`/manage/activities/${wardId}`));
    assert.ok(await pm.isChecked('input[name="audience"][value="ward"]'), 'the editor shows it as ward only');

    const page = await anon.newPage();
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 844 });
      // Results first, the form folded under what is applied.
      await strict(page, `search-${width}`, await load(page, url('/activities?postcode=L1+8JQ&day=TU')));
      const applied = (await page.textContent('ul.ensemble-applied')).replace(/\s+/g, ' ');
      assert.match(applied, /within 5 miles of L1 8JQ/);
      assert.match(applied, /on Tuesdays/);
      assert.equal(await page.$eval('.ensemble-search-form details', (d) => d.open), false, 'the form is folded');
      assert.equal(await page.isVisible('#q'), false, 'the search box is folded away');
      const resultsTop = (await page.locator('#results').boundingBox()).y;
      assert.ok(resultsTop < 844, `the results start on the first screen (at ${resultsTop}px)`);
      assert.ok((await page.locator('ul.ensemble-results > li').count()) >= 1);
      // A filter's "Remove" link drops just that filter.
      await submit(page, page.getByRole('link', { name: 'Remove on Tuesdays' }));
      assert.equal(new URL(page.url()).searchParams.get('day'), null);
      assert.equal(new URL(page.url()).searchParams.get('postcode'), 'L1 8JQ');
      // Nothing found: the links widen the search, and they work.
      await strict(page, `nothing-${width}`, await load(page, url('/activities?postcode=L1+8JQ&distance=1&day=SU')));
      assert.match(await page.textContent('#results'), /No activities found/);
      const widen = page.locator('.ensemble-widen a');
      const labels = await widen.allTextContents();
      assert.ok(labels.includes('Search within 10 miles of L1 8JQ'), labels.join(' | '));
      assert.ok(labels.includes('Search without on Sundays'), labels.join(' | '));
      await submit(page, page.getByRole('link', { name: 'Search without on Sundays' }));
      assert.doesNotMatch(await page.textContent('#results'), /No activities found/);
      assert.ok((await page.locator('ul.ensemble-results > li').count()) >= 1, 'dropping the day finds activities');
      // The ward-only activity is not found by words, on the map or in the open data feed.
      await load(page, url('/activities?q=Willow'));
      assert.match(await page.textContent('#results'), /No activities found/);
      // The map: districts and their names, the Mersey, you are here, numbered markers.
      await strict(page, `map-${width}`, await load(page, url('/activities?postcode=L1+8JQ&view=map')));
      const svg = page.locator('svg.ensemble-map');
      const names = await svg.locator('text.ensemble-map__district-name').allTextContents();
      assert.ok(names.includes('Liverpool') && names.includes('Wirral'), `district names: ${names.join(', ')}`);
      assert.equal(await svg.locator('path.ensemble-map__region').count(), 1, 'the city region outline');
      assert.equal(await svg.locator('text.ensemble-map__river').textContent(), 'River Mersey');
      assert.equal(await svg.locator('text.ensemble-map__here-label').textContent(), 'You are here');
      const listed = await page.$$eval('ol.nhsuk-list--number > li > a', (as) => as.map((a) => a.textContent.trim()));
      assert.ok(!listed.some((n) => /Willow Ward/.test(n)), 'the ward-only activity is not on the map');
      const numbers = await svg.locator('g.ensemble-map__marker').evaluateAll((gs) => gs.map((g) => Number(g.dataset.number)));
      const firsts = [...new Set(numbers)];
      assert.deepEqual(firsts, listed.map((_, i) => i + 1), 'one numbered marker per listed result, in list order');
      const box = await svg.locator('g.ensemble-map__marker circle').first().boundingBox();
      assert.ok(box.width >= 24 && box.height >= 24, `a marker is ${box.width}px across`);
      const attribution = await page.textContent('main');
      assert.match(attribution, /Contains OS data © Crown copyright/);
      // An activity page: its own map, next dates, phone, directions, ask to join.
      const first = page.locator('ol.nhsuk-list--number > li > a').first();
      const name = (await first.textContent()).trim();
      const href = await first.getAttribute('href');
      await strict(page, `activity-${width}`, await load(page, url(href)));
      assert.equal(await page.locator('svg#venue-map, svg[aria-labelledby^="venue-map"]').count(), 1, 'the activity page has its own map');
      assert.ok((await page.locator('#next-dates + ul > li').count()) >= 1, 'next dates are listed');
      const tel = page.locator('a[href^="tel:"]');
      if (await tel.count()) assert.match(await tel.first().getAttribute('href'), /^tel:\+?\d{10,13}$/);
      assert.match(await page.locator('a[href^="geo:"]').first().getAttribute('href'), /^geo:-?\d+\.\d+,-?\d+\.\d+\?q=/);
      assert.equal(await page.getByRole('link', { name: 'Refer someone' }).count(), 0, 'visitors cannot refer');
      await submit(page, page.getByRole('link', { name: 'Ask to join' }));
      await strict(page, `ask-to-join-${width}`, { response: null, errors: [] }, { expectStatus: 'any' });
      assert.match(page.url(), /\/refer-yourself\?activity=/);
      assert.match(await page.textContent('main'), new RegExp(`You are asking to join\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.equal(await page.inputValue('input[name="activity"]'), href.split('/').pop());
      // The ward-only page and its feed entry are not there for a visitor.
      const hidden = await load(page, url(`/activities/${wardId}`));
      assert.equal(hidden.response.status(), 404);
    }
    const feed = await anon.request.get(url('/openreferral/services?search=Willow'));
    assert.equal((await feed.json()).total_items, 0, 'not in the open data feed');
    assert.equal((await anon.request.get(url(`/openreferral/services/${wardId}`))).status(), 404);

    // A link worker sees the ward-only page and refers someone to it.
    const lw = await signIn('link_worker');
    for (const width of [390, 1280]) {
      await lw.setViewportSize({ width, height: 844 });
      await strict(lw, `ward-only-${width}`, await load(lw, url(`/activities/${wardId}`)));
      assert.match(await lw.textContent('main'), /Not listed publicly/);
      assert.equal(await lw.getByRole('link', { name: 'Ask to join' }).count(), 0);
      await submit(lw, lw.getByRole('link', { name: 'Refer someone' }));
      await strict(lw, `refer-someone-${width}`, { response: null, errors: [] }, { expectStatus: 'any' });
      assert.match(lw.url(), new RegExp(`/referrals/new\\?activity=${wardId}$`));
      assert.match(await lw.textContent('main'), /Referring to\s+Willow Ward Music Sessions/);
    }
  } finally {
    await anon.close();
    for (const c of staff) await c.close();
  }
});

test('anonymous: crawl of the public directory has no errors or axe violations', async (t) => {
  const ctx = await newContext();
  try {
    assertNoProblems(await crawl(ctx, 'anonymous', t, '/activities'), t);
  } finally {
    await ctx.close();
  }
});

for (const p of ['/', '/sign-in', '/accessibility', '/privacy']) {
  test(`anonymous: ${p} loads, is styled and passes axe`, async (t) => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      const { response, errors } = await load(page, url(p));
      const problems = await checkPage(page, {
        label: p,
        response,
        errors,
        screenshot: `anonymous--${slug(url(p))}`,
      });
      assertNoProblems(problems, t);
    } finally {
      await ctx.close();
    }
  });
}

test('anonymous: unknown path gives a styled 404 page', async (t) => {
  const ctx = await newContext();
  try {
    const page = await ctx.newPage();
    const p = '/this-page-does-not-exist-7f3a';
    const { response, errors } = await load(page, url(p));
    const problems = await checkPage(page, {
      label: p,
      response,
      errors,
      expectStatus: 404,
      screenshot: 'anonymous--404',
    });
    assertNoProblems(problems, t);
  } finally {
    await ctx.close();
  }
});

test('anonymous: /admin/users redirects to the sign-in page', async () => {
  const ctx = await newContext();
  try {
    const page = await ctx.newPage();
    const { response } = await load(page, url('/admin/users'));
    assert.ok(isSignInPage(page.url()), `ended on ${page.url()} (status ${response?.status()}), expected /sign-in`);
    assert.ok(response && response.status() < 400, `sign-in page status ${response?.status()}`);
    const redirected = response.request().redirectedFrom();
    assert.ok(redirected, 'expected an HTTP redirect from /admin/users');
  } finally {
    await ctx.close();
  }
});

test('anonymous: empty sign-in shows a focused error summary and passes axe', async (t) => {
  const ctx = await newContext();
  try {
    const page = await ctx.newPage();
    await load(page, url('/sign-in'));
    const { response, errors } = await submit(page, await signInButton(page));
    t.diagnostic(`empty sign-in answered with status ${response?.status()} at ${page.url()}`);

    const summary = page.locator('.nhsuk-error-summary');
    assert.equal(
      await summary.count(),
      1,
      'expected one .nhsuk-error-summary (is the form `novalidate` and free of `required`?)',
    );
    assert.ok(await summary.isVisible(), 'error summary is not visible');
    const focused = await summary.evaluate(
      (el) => el === document.activeElement || el.contains(document.activeElement),
    );
    assert.ok(focused, 'error summary is not focused (needs data-module="nhsuk-error-summary" and init.js)');
    const mentionsEmail = await summary.evaluate(
      (el) => !!el.querySelector('a[href="#email"]') || /e-?mail/i.test(el.textContent || ''),
    );
    assert.ok(mentionsEmail, 'error summary does not mention the email field');

    const problems = await checkPage(page, {
      label: 'POST /sign-in (empty)',
      response,
      errors,
      expectStatus: 'any',
      screenshot: 'anonymous--sign-in-errors',
    });
    assertNoProblems(problems, t);
  } finally {
    await ctx.close();
  }
});

// ---------------------------------------------------------------- signed in

// Pages that differ only by a record id or query values are samples of one template: visit
// at most this many of each, so the crawl stays quick as the directory grows.
const PER_PATTERN = Number(process.env.PER_PATTERN || 3);
function patternOf(u) {
  const x = new URL(u);
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
  return `${x.pathname.replace(uuid, '{id}')}?${[...x.searchParams.keys()].sort().join('&')}`;
}

async function crawl(ctx, role, t, start = '/') {
  const page = await ctx.newPage();
  // The first page of each route pattern is also opened at 320 px, in its own context made
  // that wide (resizing a page and measuring at once gave false alarms), to catch sideways
  // scrolling. Pages of one pattern share their template, so one each keeps the run short.
  const narrowCtx = await narrowContextLike(ctx);
  const narrow = await narrowCtx.newPage();
  const problems = [];
  const queue = [url(start)];
  const seen = new Set(queue);
  const perPattern = new Map();
  const narrowChecked = new Set();
  let visited = 0;
  try {
    while (queue.length && visited < MAX_PAGES) {
      const target = queue.shift();
      visited += 1;
      let result;
      try {
        result = await load(page, target);
      } catch (err) {
        problems.push(`${target}: navigation failed: ${err.message.split('\n')[0]}`);
        continue;
      }
      const final = page.url();
      const finalNoHash = final.split('#')[0];
      seen.add(finalNoHash);
      if (isSignInPage(final) && !isSignInPage(target)) {
        problems.push(`${target}: redirected to the sign-in page (session lost?)`);
        break;
      }
      const label = final === target ? target : `${target} -> ${final}`;
      problems.push(
        ...(await checkPage(page, {
          label,
          response: result.response,
          errors: result.errors,
          screenshot: `${role}--${slug(target)}`,
        })),
      );
      if (
        result.response &&
        result.response.request().method() === 'GET' &&
        result.response.status() < 400 &&
        !narrowChecked.has(patternOf(final))
      ) {
        narrowChecked.add(patternOf(final));
        problems.push(...(await checkNarrow(narrow, final, label)));
      }
      if (new URL(final).origin !== ORIGIN) continue;
      for (const link of await collectLinks(page)) {
        if (!seen.has(link)) {
          seen.add(link);
          const key = patternOf(link);
          const n = perPattern.get(key) || 0;
          if (n >= PER_PATTERN) continue;
          perPattern.set(key, n + 1);
          queue.push(link);
        }
      }
    }
  } finally {
    await page.close();
    await narrowCtx.close();
  }
  t.diagnostic(`${role}: crawled ${visited} page(s), ${queue.length} left unvisited by the cap`);
  return problems;
}

for (const role of ROLES) {
  test(`${role}: signs in`, { skip: NO_ACCOUNTS }, async () => {
    const account = ACCOUNTS.get(role);
    assert.ok(account, `no account for role ${role} in ACCOUNTS_FILE`);
    const ctx = await newContext();
    const page = await ctx.newPage();
    try {
      await load(page, url('/sign-in'));
      await page.fill('#email', account.email);
      await page.fill('#password', account.password);
      await submit(page, await signInButton(page));
      if (isSignInPage(page.url())) {
        const summary = await page
          .locator('.nhsuk-error-summary')
          .textContent()
          .catch(() => null);
        assert.fail(`still on the sign-in page after submitting: ${summary?.replace(/\s+/g, ' ').trim() || '(no error summary)'}`);
      }
      sessions.set(role, ctx);
    } catch (err) {
      await ctx.close();
      throw err;
    } finally {
      if (sessions.has(role)) await page.close();
    }
  });

  test(`${role}: crawl of linked pages has no errors or axe violations`, { skip: NO_ACCOUNTS, timeout: 20 * 60_000 }, async (t) => {
    const ctx = sessions.get(role);
    assert.ok(ctx, `${role} did not sign in`);
    assertNoProblems(await crawl(ctx, role, t), t);
  });

  test(`${role}: home page has no horizontal scrolling at 390x844`, { skip: NO_ACCOUNTS }, async (t) => {
    const ctx = sessions.get(role);
    assert.ok(ctx, `${role} did not sign in`);
    const page = await ctx.newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      const { response, errors } = await load(page, url('/'));
      assert.ok(response && response.status() < 400, `status ${response?.status()}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${role}--home--390.png`), fullPage: true });
      const errs = relevantErrors(errors, page, false).map((e) => `${e.kind}: ${e.text}`);
      assertNoProblems(errs, t);
      assert.ok(width <= 390, `document scrollWidth is ${width}px at a 390px viewport`);
    } finally {
      await page.close();
    }
  });
}

test('anonymous: home page has no horizontal scrolling at 390x844', async () => {
  const ctx = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 390, height: 844 } });
  try {
    const page = await ctx.newPage();
    await load(page, url('/'));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'anonymous--home--390.png'), fullPage: true });
    assert.ok(width <= 390, `document scrollWidth is ${width}px at a 390px viewport`);
  } finally {
    await ctx.close();
  }
});

test('participant: /admin/users is refused with a styled 403 page', { skip: NO_ACCOUNTS }, async (t) => {
  const ctx = sessions.get('participant');
  assert.ok(ctx, 'participant did not sign in');
  const page = await ctx.newPage();
  try {
    const { response, errors } = await load(page, url('/admin/users'));
    const problems = await checkPage(page, {
      label: '/admin/users as participant',
      response,
      errors,
      expectStatus: 403,
      screenshot: 'participant--admin-users-403',
    });
    assertNoProblems(problems, t);
  } finally {
    await page.close();
  }
});

// ---------------------------------------------------------------------------
// The referral pathway end to end: a person refers themselves, the link worker
// contacts them and agrees a plan, the provider accepts and marks attendance,
// and the link worker sends the message back. Every page passes axe.

async function checked(page, t, label, result, opts = {}) {
  const problems = await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `pathway--${label}`, ...opts });
  assertNoProblems(problems, t);
}

test('pathway: self-referral to message back, every page passing axe', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const name = `Taylor${Date.now().toString().slice(-6)}`;
  const anon = await newContext();
  try {
    const page = await anon.newPage();
    await checked(page, t, 'refer-yourself', await load(page, url('/refer-yourself')));
    // Sending it empty names every problem.
    const empty = await submit(page, page.getByRole('button', { name: 'Send my referral' }));
    await checked(page, t, 'refer-yourself-errors', empty, { expectStatus: 422 });
    assert.ok(await page.locator('.nhsuk-error-summary a[href="#reason"]').count(), 'error summary links to the reason field');
    await page.fill('#given_name', name);
    await page.fill('#family_name', 'Example');
    await page.fill('#email', `${name.toLowerCase()}@example.org`);
    await page.fill('#phone', '0151 000 0000');
    await page.fill('#reason', 'I would like to sing with other people again.');
    await page.check('#consent_contact');
    await page.check('#consent_evaluation');
    await page.check('#consent_research_contact-1');
    await page.check('#consent_share_gp');
    await page.waitForTimeout(3200); // people take a few seconds; bots do not
    const sent = await submit(page, page.getByRole('button', { name: 'Send my referral' }));
    assert.match(page.url(), /\/refer-yourself\/done\?reference=ENS-[0-9A-F]{4}-[0-9A-F]{4}$/);
    await checked(page, t, 'refer-yourself-done', sent);
    // The confirmation shows the referral's short reference.
    const reference = new URL(page.url()).searchParams.get('reference');
    assert.match(await page.textContent('main'), new RegExp(`Your reference is\\s*${reference}`));
  } finally {
    await anon.close();
  }

  const lw = sessions.get('link_worker');
  assert.ok(lw, 'link worker did not sign in');
  const lwPage = await lw.newPage();
  let casePath;
  try {
    await checked(lwPage, t, 'caseload-unassigned', await load(lwPage, url('/caseload?show=unassigned')));
    const link = lwPage.getByRole('link', { name: `${name} Example` });
    casePath = new URL(await link.getAttribute('href'), BASE_URL).pathname;
    await checked(lwPage, t, 'case-received', await load(lwPage, url(casePath)));
    await submit(lwPage, lwPage.getByRole('button', { name: 'Take on this referral' }));
    await lwPage.selectOption('#status', 'contacted');
    await checked(lwPage, t, 'case-contacted', await submit(lwPage, lwPage.getByRole('button', { name: 'Update status' })));
    await checked(lwPage, t, 'plan-form', await load(lwPage, url(`${casePath}/plan`)));
    await lwPage.fill('#what_matters', 'Singing with other people; getting out of the house.');
    await lwPage.fill('#goals', 'Sing every week and make a friend.');
    await lwPage.fill('#support_offered', 'A music group with Liverpool City Sinfonia.');
    await lwPage.fill('#next_steps', 'Refer to the group; first visit with a buddy.');
    await lwPage.check('#agreed');
    await checked(lwPage, t, 'case-plan-agreed', await submit(lwPage, lwPage.getByRole('button', { name: 'Save plan' })));
    assert.match(await lwPage.locator('h1').textContent(), new RegExp(name));
    await lwPage.click('summary:has-text("Or choose any activity from the directory")');
    const option = await lwPage.$$eval('#activity_id option', (os) => os.find((o) => /Sinfonia/.test(o.textContent))?.value);
    assert.ok(option, 'a Liverpool City Sinfonia activity is offered');
    await lwPage.selectOption('#activity_id', option);
    await lwPage.fill('#provider_note', 'Would like a friendly welcome.');
    await checked(lwPage, t, 'case-connected', await submit(lwPage, lwPage.getByRole('button', { name: 'Send to the provider' })));
  } finally {
    await lwPage.close();
  }

  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const prPage = await pr.newPage();
  try {
    await prPage.setViewportSize({ width: 390, height: 844 });
    await checked(prPage, t, 'provider-inbox', await load(prPage, url('/provider/referrals')));
    const id = casePath.split('/').pop();
    await checked(prPage, t, 'provider-referral', await load(prPage, url(`/provider/referrals/${id}`)));
    const width = await prPage.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `provider page scrollWidth ${width}px at 390px`);
    await prPage.check('#decision');
    await checked(prPage, t, 'provider-accepted', await submit(prPage, prPage.getByRole('button', { name: 'Send answer' })));
    assert.match(await prPage.textContent('body'), /Accepted by the provider/);
    await checked(prPage, t, 'provider-attendance', await submit(prPage, prPage.getByRole('button', { name: 'Mark attendance' })));
  } finally {
    await prPage.close();
  }

  const lwPage2 = await lw.newPage();
  try {
    await checked(lwPage2, t, 'case-attending', await load(lwPage2, url(casePath)));
    assert.match(await lwPage2.textContent('body'), /Attending/);
    const id = casePath.split('/').pop();
    await checked(lwPage2, t, 'message-back', await load(lwPage2, url(`/referrals/${id}/message-back`)));
    assert.match(await lwPage2.textContent('body'), /871731000000106/);
    await checked(lwPage2, t, 'message-back-sent', await submit(lwPage2, lwPage2.getByRole('button', { name: 'Send the message back' })));
    assert.match(await lwPage2.textContent('body'), /has been sent/);
  } finally {
    await lwPage2.close();
  }
});

test('matching: the demo link worker finds activities for Riley from the case, sends three by text and records the choice, at 390 and 1280 px', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const lw = sessions.get('link_worker');
  assert.ok(lw, 'link worker did not sign in');
  const page = await lw.newPage();
  // WCAG 2.2 AA as every test, plus axe's best-practice rules.
  const strict = async (label, result, opts = {}) => {
    await checked(page, t, `matching-${label}-${page.viewportSize().width}`, result, opts);
    const best = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['best-practice']).analyze();
    const problems = best.violations.map((v) => `${label}: axe ${v.id}: ${v.help} — ${JSON.stringify(v.nodes[0]?.target)}`);
    assertNoProblems(problems, t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= page.viewportSize().width, `${label}: scrollWidth ${width}px at ${page.viewportSize().width}px`);
  };
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await load(page, url('/caseload'));
    const link = page.getByRole('link', { name: 'Riley Example' });
    const casePath = new URL(await link.getAttribute('href'), BASE_URL).pathname;
    await strict('case', await load(page, url(casePath)));
    await strict('search', await submit(page, page.getByRole('link', { name: 'Find activities for Riley' })));
    assert.match(page.url(), /\/match$/);
    // Pre-filled from the record: postcode, free, step-free.
    assert.equal(await page.inputValue('#postcode'), 'L8 0AB');
    assert.ok(await page.isChecked('input[name="cost"][value="free"]'), 'free is ticked for the cost barrier');
    assert.ok(await page.isChecked('input[name="access"][value="step_free"]'), 'step-free is ticked for the mobility barrier');
    const cards = page.locator('ol.ensemble-results > li');
    assert.ok((await cards.count()) >= 3, 'at least three results near L8');
    const first = await cards.first().textContent();
    assert.match(first, /Distance/);
    assert.match(first, /Next session/);
    assert.match(first, /Free/);
    assert.match(first, /Step-free access/);
    // Nothing ticked: a clear error summary, not a 500.
    await strict('none-ticked', await submit(page, page.getByRole('button', { name: 'Send the options' })), { expectStatus: 422 });
    assert.ok(await page.locator('.nhsuk-error-summary a[href="#options"]').count(), 'the error summary links to the options');
    // Three ticked, by text message (Riley's preference).
    for (let i = 0; i < 3; i += 1) await cards.nth(i).locator('input[name="options"]').check();
    assert.ok(await page.isChecked('#channel-1'), 'text message is chosen for Riley, who prefers texts');
    await strict('sent', await submit(page, page.getByRole('button', { name: 'Send the options' })));
    assert.match(await page.textContent('body'), /Options sent/);

    await page.setViewportSize({ width: 1280, height: 900 });
    await strict('sent-wide', await load(page, page.url().split('#')[0]));
    // Widening: untick the cost filter and search again.
    await page.click('summary:has-text("Change the filters")');
    await page.uncheck('input[name="cost"][value="free"]');
    await strict('widened', await submit(page, page.getByRole('button', { name: 'Search again' })));
    assert.ok(!(await page.isChecked('input[name="cost"][value="free"]')), 'the widened filter stays unticked');
    // Record the choice: the referral is connected and the provider asked.
    await page.locator('input[name="choice"]').first().check();
    await page.fill('#provider_note', 'Uses a walking frame; a chair near the door helps.');
    await strict('chosen', await submit(page, page.getByRole('button', { name: 'Record their choice and send to the provider' })));
    assert.equal(new URL(page.url()).pathname, casePath);
    assert.match(await page.textContent('body'), /Connected to an activity/);
  } finally {
    await page.close();
  }
});

test('measures: a participant completes SWEMWBS (uploaded wording) and ONS4 on a phone; the practitioner sees the scores', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const noScroll = async (page, label) => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${label}: scrollWidth ${width}px at 390px`);
  };
  // An administrator uploads (made-up, clearly marked) stand-in wording for the participant's team.
  const admin = sessions.get('administrator');
  assert.ok(admin, 'administrator did not sign in');
  const adminPage = await admin.newPage();
  const stamp = Date.now().toString().slice(-5);
  try {
    await checked(adminPage, t, 'wording-form', await load(adminPage, url('/admin/instrument-wording')));
    const empty = await submit(adminPage, adminPage.getByRole('button', { name: 'Upload wording' }));
    await checked(adminPage, t, 'wording-errors', empty, { expectStatus: 422 });
    const org = await adminPage.$$eval('#organisation_id option', (os) => os.find((o) => /Knowsley/.test(o.textContent))?.value);
    assert.ok(org, 'the Knowsley team is offered');
    await adminPage.selectOption('#organisation_id', org);
    const ids = ['optimistic', 'useful', 'relaxed', 'dealing_with_problems', 'thinking_clearly', 'close_to_others', 'own_mind'];
    const items = Object.fromEntries(ids.map((id, i) => [id, { text: `Browser stand-in ${stamp}, question ${i + 1}: a made-up statement.` }]));
    await adminPage.fill('#overlay', JSON.stringify({ instrument: 'swemwbs', version: 1, stand_in: true, source: 'browser test stand-in, not the licensed wording', items }));
    const uploaded = await submit(adminPage, adminPage.getByRole('button', { name: 'Upload wording' }));
    await checked(adminPage, t, 'wording-uploaded', uploaded);
    assert.match(await adminPage.textContent('body'), /The wording is uploaded/);
  } finally {
    await adminPage.close();
  }

  const me = sessions.get('participant');
  assert.ok(me, 'participant did not sign in');
  const page = await me.newPage();
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await checked(page, t, 'check-ins', await load(page, url('/check-ins')));
    await noScroll(page, 'check-ins');
    await page.check('#swemwbs-one');
    const q1 = await submit(page, page.getByRole('button', { name: 'Start Short Warwick-Edinburgh Mental Wellbeing Scale' }));
    await checked(page, t, 'swemwbs-q1', q1);
    assert.match(await page.textContent('main'), new RegExp(`Browser stand-in ${stamp}, question 1`));
    assert.match(await page.textContent('main'), /Demonstration wording/);
    await noScroll(page, 'swemwbs-q1');
    // Continuing without an answer names the question.
    const unanswered = await submit(page, page.getByRole('button', { name: 'Continue' }));
    await checked(page, t, 'swemwbs-q1-error', unanswered, { expectStatus: 422 });
    assert.match(await page.textContent('.nhsuk-error-summary'), /Question 1: choose an answer/);
    const values = [4, 4, 3, 4, 3, 4, 4]; // raw 26, metric 23.21
    for (let i = 0; i < values.length; i += 1) {
      const name = await page.$eval('input[type=radio]', (el) => el.name);
      await page.check(`input[name="${name}"][value="${values[i]}"]`);
      const last = i === values.length - 1;
      const result = await submit(page, page.getByRole('button', { name: last ? 'Finish' : 'Continue' }));
      await checked(page, t, last ? 'swemwbs-done' : `swemwbs-q${i + 2}`, result);
      await noScroll(page, `swemwbs step ${i + 2}`);
    }
    assert.match(await page.textContent('main'), /Thank you/);
    assert.match(await page.textContent('main'), /23\.21/);

    await load(page, url('/check-ins'));
    const ons = await submit(page, page.getByRole('button', { name: 'Start ONS personal well-being' }));
    await checked(page, t, 'ons4', ons);
    await noScroll(page, 'ons4');
    for (const [item, value] of [['life_satisfaction', 7], ['worthwhile', 8], ['happiness', 6]]) {
      await page.check(`#q_${item}-${value}`);
    }
    // ONS reports its four measures separately: finishing with the anxiety question
    // unanswered is accepted and scores the other three.
    const done = await submit(page, page.getByRole('button', { name: 'Finish' }));
    await checked(page, t, 'ons4-done', done);
    assert.match(await page.textContent('main'), /Thank you/);
    await checked(page, t, 'my-plan-scores', await load(page, url('/my/plan')));
    assert.match(await page.textContent('main'), /My wellbeing/);
  } finally {
    await page.close();
  }

  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const prPage = await pr.newPage();
  try {
    await prPage.setViewportSize({ width: 390, height: 844 });
    await load(prPage, url('/provider/referrals'));
    const link = prPage.getByRole('link', { name: /Jordan/ }).first();
    const href = await link.getAttribute('href');
    const view = await load(prPage, url(href));
    await checked(prPage, t, 'provider-scores', view);
    const text = await prPage.textContent('#wellbeing');
    assert.match(text, /Metric score/);
    assert.match(text, /23\.21/);
    assert.match(text, /Life satisfaction/);
    assert.match(text, /960481000000107/);
    await noScroll(prPage, 'provider-scores');
  } finally {
    await prPage.close();
  }
});

// Every instrument id of the built-in library (a participant's pages must show none).
const INSTRUMENT_IDS = fs
  .readdirSync(path.resolve(HERE, '../../crates/ensemble/src/modules/measures/builtin'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.resolve(HERE, '../../crates/ensemble/src/modules/measures/builtin', f), 'utf8')).id);

/** Words a participant's page must not show: instrument ids, SNOMED CT codes, "metric". */
function unplainWords(text) {
  const found = [];
  for (const id of INSTRUMENT_IDS) {
    if (new RegExp(`(^|[^a-z0-9_])${id}(@\\d+)?([^a-z0-9_]|$)`, 'i').test(text)) found.push(`instrument id "${id}"`);
  }
  if (/snomed|\bsct\b/i.test(text)) found.push('a SNOMED CT label');
  const code = /\b\d{6,18}\b/.exec(text);
  if (code) found.push(`a code-like number ${code[0]}`);
  if (/metric/i.test(text)) found.push('the word "metric"');
  return found;
}

/** axe with WCAG 2.2 AA, target-size and the best-practice rules. */
async function runAxeBestPractice(page) {
  const results = await new AxeBuilder({ page })
    .setLegacyMode(true)
    .options({ rules: { 'target-size': { enabled: true } } })
    .withTags([...AXE_TAGS, 'best-practice'])
    .analyze();
  return results.violations.map((v) => `axe ${v.id} (${v.impact}): ${v.help} — first node: ${JSON.stringify(v.nodes[0]?.target)} [${v.nodes.length} node(s)]`);
}

test('participant pages are in plain words at 390 and 1280 px; withdrawing a consent asks to confirm and can be undone', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const me = sessions.get('participant');
  assert.ok(me, 'participant did not sign in');
  const page = await me.newPage();
  const problems = [];
  try {
    // Every page reachable from the participant's navigation, and the pages those link to
    // on the participant's own paths (My plan, check-ins, consents, account).
    await load(page, url('/'));
    const nav = await page.$$eval('header nav a[href]', (as) => as.map((a) => a.href));
    const own = (u) => {
      const { origin, pathname } = new URL(u);
      return origin === ORIGIN && /^\/(my\/|check-ins|account|$)/.test(pathname) && !shouldSkip(new URL(u));
    };
    const toVisit = [...new Set(nav.filter(own))];
    for (const u of [...toVisit]) {
      await load(page, u);
      for (const link of await page.$$eval('main a[href]', (as) => as.map((a) => a.href.split('#')[0]))) {
        if (own(link) && !toVisit.includes(link)) toVisit.push(link);
      }
    }
    assert.ok(toVisit.some((u) => u.endsWith('/my/plan')), 'My plan is in the navigation');
    assert.ok(toVisit.some((u) => /\/my\/consents\//.test(u)), 'My plan links to the consent pages');
    t.diagnostic(`participant pages: ${toVisit.map((u) => new URL(u).pathname).join(', ')}`);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      for (const u of toVisit) {
        const { response, errors } = await load(page, u);
        const label = `${new URL(u).pathname} at ${width}px`;
        if (!response || response.status() >= 400) problems.push(`${label}: status ${response?.status()}`);
        for (const e of relevantErrors(errors, page, false)) problems.push(`${label}: ${e.kind}: ${e.text}`);
        const text = await page.textContent('body');
        for (const w of unplainWords(text)) problems.push(`${label}: shows ${w}`);
        for (const v of await runAxeBestPractice(page)) problems.push(`${label}: ${v}`);
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
        if (scroll > width) problems.push(`${label}: scrollWidth ${scroll}px`);
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `plain--${slug(u)}--${width}.png`), fullPage: true });
      }
    }
    assertNoProblems(problems, t);

    // Withdraw "sharing stories" (confirming, told what happens), then give it again.
    await page.setViewportSize({ width: 390, height: 844 });
    await load(page, url('/my/plan'));
    const plan = await page.textContent('main');
    assert.match(plan, /I agree that/);
    if (await page.locator('a[href="/my/consents/share_stories"]', { hasText: 'Give consent' }).count()) {
      await load(page, url('/my/consents/share_stories'));
      await submit(page, page.getByRole('button', { name: 'Yes, I agree' }));
    }
    await checked(page, t, 'plain-withdraw', await load(page, url('/my/consents/share_stories')));
    assert.match(await page.textContent('main'), /What happens if you withdraw/);
    const withdrawn = await submit(page, page.getByRole('button', { name: 'Yes, withdraw my consent' }));
    await checked(page, t, 'plain-withdrawn', withdrawn);
    assert.match(await page.textContent('main'), /You have withdrawn your consent/);
    assert.match(await page.textContent('main'), /You withdrew this on/);
    await checked(page, t, 'plain-give-again', await load(page, url('/my/consents/share_stories')));
    const given = await submit(page, page.getByRole('button', { name: 'Yes, I agree' }));
    await checked(page, t, 'plain-given', given);
    assert.match(await page.textContent('main'), /You have given your consent/);
  } finally {
    await page.close();
  }
});

test('practice: on a phone, a practitioner plans a session, takes the register, logs it with the observation scale and records an incident that reaches the clinical lead', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const page = await pr.newPage();
  const noScroll = async (label) => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${label}: scrollWidth ${width}px at 390px`);
  };
  let incidentPath;
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await checked(page, t, 'sessions', await load(page, url('/sessions')));
    await noScroll('sessions');
    // Plan today's session for the activity of the demo's earlier session (Jordan's group).
    const earlier = await page.locator('.ensemble-session-list a').first().textContent();
    const option = await page.$$eval('#activity_id option', (os, name) => os.find((o) => o.textContent.trim() === name.trim())?.value, earlier);
    assert.ok(option, `activity ${earlier} is offered`);
    await page.selectOption('#activity_id', option);
    await page.fill('#starts', '00:00');
    await page.fill('#ends', '23:59');
    await page.fill('#venue', 'Community room');
    const planned = await submit(page, page.getByRole('button', { name: 'Plan session', exact: true }));
    await checked(page, t, 'session', planned);
    await noScroll('session');
    const sessionPath = new URL(page.url()).pathname;
    const empty = await submit(page, page.getByRole('button', { name: 'Save plan' }));
    await checked(page, t, 'session-plan-errors', empty, { expectStatus: 422 });
    await page.fill('#aims', 'Warm up; learn a round; everyone leads a rhythm.');
    await page.check('#musical_activities');
    await page.check('#musical_activities-2');
    await page.fill('#risks', 'Cables taped down.');
    await checked(page, t, 'session-planned', await submit(page, page.getByRole('button', { name: 'Save plan' })));

    await checked(page, t, 'register', await load(page, url(`${sessionPath}/register`)));
    await noScroll('register');
    // With JavaScript, a mark is made without reloading the page.
    const present = page.getByRole('button', { name: /^Present\b.*Jordan/ });
    await present.click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-line]')].some((l) => /Jordan/.test(l.textContent) && l.dataset.status === 'present'));
    assert.equal(await present.getAttribute('aria-pressed'), 'true');
    assert.match(await page.textContent('main'), /Jordan\s*Present/);
    // "Mark everyone present" stays only while someone else in the group is unmarked.
    const unmarked = await page.$$eval('[data-line]', (ls) => ls.filter((l) => !l.dataset.status && !l.dataset.left).length);
    assert.equal(await page.locator('[data-everyone]').isVisible(), unmarked > 0, `${unmarked} left to mark`);
    await checked(page, t, 'register-marked', { response: null, errors: [] }, { expectStatus: 'any' });
    await page.fill('#walk_in', 'Sam');
    await checked(page, t, 'register-walk-in', await submit(page, page.getByRole('button', { name: 'Add as present' })));
    assert.match(await page.textContent('main'), /Sam\s+\(walk-in\)/);
    await noScroll('register-walk-in');

    await checked(page, t, 'log', await load(page, url(`${sessionPath}/log`)));
    await page.fill('#what_happened', 'Seven came; we learned a round.');
    await page.fill('#engagement', 'Everyone sang by the end.');
    await page.fill('#debrief', 'Good pace; the round needs more practice.');
    await page.fill('#next_time', 'Start with rhythm.');
    await checked(page, t, 'log-saved', await submit(page, page.getByRole('button', { name: 'Save log' })));
    await page.check('#q_group_engagement-3');
    await page.check('#q_wellbeing_observed-3');
    await page.check('#q_participation-4');
    await checked(page, t, 'log-observed', await submit(page, page.getByRole('button', { name: 'Save observation' })));
    assert.match(await page.textContent('main'), /Group engagement 4; Wellbeing observed 4; Participation 5/);
    await noScroll('log-observed');

    await checked(page, t, 'incident-form', await load(page, url(`${sessionPath}/incident`)));
    await page.check('#category');
    await page.check('#severity-2');
    await page.fill('#what_happened', 'A participant felt faint during the warm-up.');
    await page.fill('#immediate_action', 'Sat them down, water, first aid; carer called.');
    await checked(page, t, 'incident', await submit(page, page.getByRole('button', { name: 'Record' })));
    const recorded = await page.textContent('main');
    assert.match(recorded, /Escalated/);
    // The confirmation says who was told (by name and role), what happens next and the
    // organisation's out-of-hours route.
    assert.match(recorded, /Who was told/);
    assert.match(recorded, /, clinical lead/);
    assert.match(recorded, /What happens next/);
    assert.match(recorded, /call 999/);
    incidentPath = new URL(page.url()).pathname;
    await noScroll('incident');
  } finally {
    await page.close();
  }

  // The named clinical lead (the demo clinician) was emailed and can open it.
  const admin = sessions.get('administrator');
  const adminPage = await admin.newPage();
  try {
    await load(adminPage, url('/admin/outbox'));
    const outbox = await adminPage.textContent('main');
    assert.match(outbox, /chris\.clinician@ensemble-demo\.example/);
    assert.match(outbox, /An incident needs you/);
  } finally {
    await adminPage.close();
  }
  const cl = sessions.get('clinician');
  const clPage = await cl.newPage();
  try {
    await checked(clPage, t, 'incident-lead', await load(clPage, url(incidentPath)));
    assert.match(await clPage.textContent('main'), /felt faint/);
  } finally {
    await clPage.close();
  }
});

test('journal: an entry written on several lines keeps its line breaks under the CSP, without inline styles', { skip: NO_ACCOUNTS, timeout: 2 * 60_000 }, async (t) => {
  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const page = await pr.newPage();
  try {
    await checked(page, t, 'journal', await load(page, url('/practice/journal')));
    await page.fill('#title', `Line breaks ${Date.now()}`);
    await page.fill('#body', 'First line\nSecond line\nThird line');
    // `checked` fails on console errors, which is where a CSP-blocked style shows up.
    await checked(page, t, 'journal-entry', await submit(page, page.getByRole('button', { name: 'Save entry' })));
    const entry = page.locator('main p.ensemble-pre-line');
    assert.equal(await entry.evaluate((el) => getComputedStyle(el).whiteSpace), 'pre-line');
    assert.equal((await entry.innerText()).split('\n').length, 3, 'three lines, as typed');
    assert.equal(await page.locator('main [style]').count(), 0, 'no inline style attribute in the page');
  } finally {
    await page.close();
  }
});

test('care roles: an administrator asks for a care role, sees it waiting on every administration page, and cannot approve it alone', { skip: NO_ACCOUNTS, timeout: 2 * 60_000 }, async (t) => {
  const admin = sessions.get('administrator');
  assert.ok(admin, 'administrator did not sign in');
  const participant = ACCOUNTS.get('co_researcher');
  const page = await admin.newPage();
  try {
    await checked(page, t, 'care-users', await load(page, url(`/admin/users?q=${encodeURIComponent(participant.email)}`)));
    const userPath = await page.locator('main table a').first().getAttribute('href');
    await checked(page, t, 'care-user', await load(page, url(userPath)));
    const option = await page.$$eval('#organisation_id option', (os) => os.find((o) => o.value)?.value);
    await page.selectOption('#organisation_id', option);
    await page.selectOption('#role', 'link_worker');
    await checked(page, t, 'care-requested', await submit(page, page.getByRole('button', { name: 'Add role' })));
    assert.match(await page.textContent('main'), /Waiting for a second administrator to approve: Link worker/);
    for (const p of ['/admin', '/admin/users']) {
      await checked(page, t, `care-banner${p.replaceAll('/', '-')}`, await load(page, url(p)));
      assert.match(await page.textContent('.nhsuk-warning-callout'), /care roles? waiting for approval/);
    }
    await checked(page, t, 'care-roles', await load(page, url('/admin/role-grants')));
    const main = await page.textContent('main');
    assert.match(main, /Another administrator must approve this/);
    assert.equal(await page.getByRole('button', { name: /^Approve/ }).count(), 0, 'the one who asked has no Approve button');
    // Withdraw it, so the demo is left as it was.
    await checked(page, t, 'care-refused', await submit(page, page.getByRole('button', { name: /^Refuse/ }).first()));
    assert.match(await page.textContent('main'), /Refused/);
  } finally {
    await page.close();
  }
});

test('portfolio: on a phone, a practitioner adds training with a certificate (a wrong file first), assesses themselves and exports; their supervisor gives an assessment', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const page = await pr.newPage();
  const noScroll = async (label) => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${label}: scrollWidth ${width}px at 390px`);
  };
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await checked(page, t, 'portfolio', await load(page, url('/practice/portfolio')));
    await noScroll('portfolio');
    await checked(page, t, 'portfolio-add', await submit(page, page.getByRole('link', { name: 'Add evidence' })));
    const empty = await submit(page, page.getByRole('button', { name: 'Add to portfolio' }));
    await checked(page, t, 'portfolio-add-errors', empty, { expectStatus: 422 });
    assert.match(await page.textContent('.nhsuk-error-summary'), /Choose what kind of evidence this is/);
    await noScroll('portfolio-add-errors');
    const fill = async () => {
      await page.check('#kind-3');
      await page.fill('#title', 'Mental health first aid');
      await page.fill('#occurred_on', '2026-10-14');
      await page.fill('#hours', '7.5');
      await page.check('#competencies-4');
    };
    await fill();
    await page.setInputFiles('#certificate', { name: 'certificate.docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', buffer: Buffer.from('PK\x03\x04 not a pdf') });
    const wrong = await submit(page, page.getByRole('button', { name: 'Add to portfolio' }));
    await checked(page, t, 'portfolio-add-wrong-file', wrong, { expectStatus: 422 });
    assert.match(await page.textContent('.nhsuk-error-summary'), /"certificate\.docx" is not a PDF, PNG or JPEG file/);
    await fill();
    await page.setInputFiles('#certificate', { name: 'mhfa.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% certificate\n') });
    await checked(page, t, 'portfolio-evidence', await submit(page, page.getByRole('button', { name: 'Add to portfolio' })));
    assert.match(await page.textContent('main'), /Download mhfa\.pdf/);
    await noScroll('portfolio-evidence');

    await checked(page, t, 'portfolio-assess', await load(page, url('/practice/portfolio/assess')));
    await page.selectOption('#competency', 'MHA1');
    await page.check('#level-1');
    await page.fill('#comment', 'Confident with support; want more practice on wards.');
    await checked(page, t, 'portfolio-assessed', await submit(page, page.getByRole('button', { name: 'Save my assessment' })));
    assert.match(await page.textContent('main'), /Recognises distress and responds well \(MHA1\)\s*1 evidence · You: 2 Developing/);

    await checked(page, t, 'portfolio-print', await load(page, url('/practice/portfolio/print')));
    assert.match(await page.textContent('main'), /Mental health first aid/);
    const exported = await page.request.get(url('/practice/portfolio/export.json'));
    assert.equal(exported.status(), 200);
    const doc = await exported.json();
    assert.equal(doc.format, 'ensemble-cpd-portfolio/1');
    assert.ok(doc.evidence.some((e) => e.title === 'Mental health first aid' && e.certificate?.filename === 'mhfa.pdf'));
    await checked(page, t, 'portfolio-summary', await load(page, url('/practice/summary')));
    assert.match(await page.textContent('main'), /CPD by competency domain/);
  } finally {
    await page.close();
  }

  // The supervisor (the demo programme manager) answers the demo's request.
  const pm = sessions.get('programme_manager');
  const pmPage = await pm.newPage();
  try {
    await pmPage.setViewportSize({ width: 390, height: 844 });
    await checked(pmPage, t, 'assessments', await load(pmPage, url('/practice/assessments')));
    await checked(pmPage, t, 'assessment', await submit(pmPage, pmPage.locator('li', { hasText: 'waiting for you' }).getByRole('link', { name: /F2/ }).first()));
    const none = await submit(pmPage, pmPage.getByRole('button', { name: 'Give assessment' }));
    await checked(pmPage, t, 'assessment-errors', none, { expectStatus: 422 });
    await pmPage.check('#level-2');
    await pmPage.fill('#comment', 'Plans are clear and reviewed the same day; seen in supervision.');
    await checked(pmPage, t, 'assessment-given', await submit(pmPage, pmPage.getByRole('button', { name: 'Give assessment' })));
    assert.match(await pmPage.textContent('main'), /level 3 Competent|level 3 – Competent/);
    await checked(pmPage, t, 'framework', await load(pmPage, url('/practice/framework')));
  } finally {
    await pmPage.close();
  }
});

// The practitioner's "today": the home page leads with their sessions; sessions are planned
// from the activity's schedule; the register of a group of 20 is marked in one tap plus a
// confirmation, as one request, without reloading the page. At 1280 px and 390 px, with
// axe's WCAG 2.2 AA and best-practice rules.

test('today: the practitioner plans from the schedule, finds today on the home page and marks a group of 20 present in one tap and a confirmation', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const pr = sessions.get('practitioner');
  assert.ok(pr, 'practitioner did not sign in');
  const page = await pr.newPage();
  const check = async (label, result, opts = {}) => {
    await checked(page, t, `today--${label}`, result, opts);
    assertNoProblems((await runAxeBestPractice(page)).map((p) => `${label}: ${p}`), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const viewport = page.viewportSize().width;
    assert.ok(width <= viewport, `${label}: scrollWidth ${width}px at ${viewport}px`);
  };
  try {
    // 1280 px: plan the coming weeks from the schedule; a second run plans nothing new.
    await page.setViewportSize({ width: 1280, height: 800 });
    await check('sessions-1280', await load(page, url('/sessions')));
    const option = await page.$$eval('#plan_activity option', (os) => os.find((o) => o.value)?.value);
    assert.ok(option, 'an activity to plan from');
    await page.selectOption('#plan_activity', option);
    await page.fill('#weeks', '2');
    await check('planned-1280', await submit(page, page.getByRole('button', { name: 'Plan sessions from the schedule' })));
    await page.selectOption('#plan_activity', option);
    await page.fill('#weeks', '2');
    await check('planned-again-1280', await submit(page, page.getByRole('button', { name: 'Plan sessions from the schedule' })));
    assert.match(await page.textContent('.nhsuk-notification-banner'), /No new sessions planned: every date in those weeks already has one/);
    await check('home-1280', await load(page, url('/')));
    assert.match(await page.textContent('main'), /Today's sessions/);

    // 390 px: the home page leads with today; the group's register is one tap away.
    await page.setViewportSize({ width: 390, height: 844 });
    await check('home-390', await load(page, url('/')));
    const headings = await page.$$eval('main h2', (hs) => hs.map((h) => h.textContent.trim()));
    assert.equal(headings[0], "Today's sessions", `the page leads with today: ${headings}`);
    const registers = page.locator('.ensemble-today').first().getByRole('link', { name: /^Register/ });
    const hrefs = await registers.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.length > 0, 'a session today');
    // The group of 20 (the demo's session today with twenty regular members).
    let registerPath;
    for (const href of hrefs) {
      await load(page, url(href));
      const total = await page.$eval('[data-register]', (r) => Number(r.dataset.total)).catch(() => 0);
      const unmarked = await page.$$eval('[data-line][data-status=""]', (ls) => ls.length);
      if (total >= 20 && unmarked >= 20) { registerPath = href; break; }
    }
    assert.ok(registerPath, 'a register of 20 not yet marked');
    await check('register-390', await load(page, url(registerPath)));
    const total = await page.$eval('[data-register]', (r) => Number(r.dataset.total));
    assert.match(await page.textContent('[data-head-count]'), new RegExp(`^0 of ${total} present$`));

    // One tap, then the confirmation: exactly one request, and no page load.
    const requests = [];
    let navigations = 0;
    const onRequest = (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`);
    const onNav = (f) => { if (f === page.mainFrame()) navigations += 1; };
    page.on('request', onRequest);
    page.on('framenavigated', onNav);
    await page.getByText('Mark everyone present', { exact: true }).click();
    const confirm = page.getByRole('button', { name: /^Yes, mark \d+ present$/ });
    await confirm.waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'today--register-confirm-390.png'), fullPage: true });
    await confirm.click();
    await page.waitForFunction((n) => document.querySelector('[data-head-count]')?.textContent === `${n} of ${n} present`, total);
    page.off('request', onRequest);
    page.off('framenavigated', onNav);
    assert.deepEqual(requests, [`POST ${registerPath}/everyone`], 'one request marks everyone');
    assert.equal(navigations, 0, 'no page load');
    assert.equal(await page.$$eval('[data-line][data-status="present"]', (ls) => ls.length), total);
    await check('register-marked-390', { response: null, errors: [] }, { expectStatus: 'any' });

    // The marks are kept: after a reload, everyone is present and there is nothing left to mark.
    await check('register-reloaded-390', await load(page, url(registerPath)));
    assert.equal(await page.textContent('[data-head-count]'), `${total} of ${total} present`);
    assert.equal(await page.locator('[data-everyone]').count(), 0);

    // One person is marked late instead, without a reload; the head count still counts them.
    await page.getByRole('button', { name: /^Late\b/ }).first().click();
    await page.waitForFunction(() => document.querySelectorAll('[data-line][data-status="late"]').length === 1);
    assert.equal(await page.textContent('[data-head-count]'), `${total} of ${total} present`);
    await check('register-late-390', { response: null, errors: [] }, { expectStatus: 'any' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await check('register-1280', await load(page, url(registerPath)));
  } finally {
    await page.close();
  }
});

// ---------------------------------------------------------------- programmes and voices

test('programmes: a participant shares feedback for the team from a phone; a practitioner turns it into an action; progress reaches the participant, who replies; the public board names nobody', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const participant = sessions.get('participant');
  const practitioner = sessions.get('practitioner');
  assert.ok(participant && practitioner, 'participant and practitioner signed in');
  const said = `The room is too cold in the mornings ${Date.now()}`;
  const title = `Warm the room before the group ${Date.now()}`;
  const p = await participant.newPage();
  const pr = await practitioner.newPage();
  const anon = await newContext();
  const a = await anon.newPage();
  const check = async (page, label, result, opts = {}) => {
    assertNoProblems(await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `programmes--${label}`, ...opts }), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const viewport = page.viewportSize().width;
    assert.ok(width <= viewport, `${label}: scrollWidth ${width}px at ${viewport}px`);
  };
  try {
    // The participant, on a 390 px phone, shares feedback for the programme team only.
    await p.setViewportSize({ width: 390, height: 844 });
    await check(p, 'list-390', await load(p, url('/programmes')));
    const programme = await p.getByRole('link', { name: 'Music and Mind, Liverpool 2026' }).getAttribute('href');
    await check(p, 'space-390', await load(p, url(programme)));
    const empty = await submit(p, p.getByRole('button', { name: 'Share', exact: true }));
    await check(p, 'share-empty-390', empty, { expectStatus: 422 });
    assert.match(await p.textContent('.nhsuk-error-summary'), /Enter what you want to say/);
    await p.getByLabel('Feedback').check();
    await p.getByLabel('What you want to say').fill(said);
    await p.getByLabel('The programme team only').check();
    await check(p, 'shared-390', await submit(p, p.getByRole('button', { name: 'Share', exact: true })));
    assert.match(await p.textContent('.nhsuk-notification-banner'), /your voice is shared/);
    const voice = new URL(p.url()).pathname;

    // The practitioner (on the team) turns it into an action and, as its owner, posts progress.
    await check(pr, 'voice-team', await load(pr, url(voice)));
    assert.ok((await pr.textContent('main')).includes(said));
    await check(pr, 'new-action', await submit(pr, pr.getByRole('link', { name: 'Turn this into an action' })), { expectStatus: 'any' });
    assert.ok(await pr.locator(`input[name=voices][value="${voice.split('/').pop()}"]`).isChecked(), 'the voice is chosen');
    await pr.getByLabel('What will change').fill(title);
    await pr.getByLabel('What you heard and what you will do').fill('People said the room is cold. We will ask the venue to put the heating on an hour earlier.');
    const owner = await pr.$$eval('#owner_id option', (os) => os.find((o) => o.textContent.includes('Priya'))?.value);
    await pr.selectOption('#owner_id', owner);
    await pr.getByLabel('Due date').fill('2027-01-31');
    await check(pr, 'action', await submit(pr, pr.getByRole('button', { name: 'Start action' })));
    const action = new URL(pr.url()).pathname;
    await pr.getByLabel('What has happened').fill('The venue will put the heating on at 8 from next week.');
    await pr.getByLabel('In progress').check();
    await check(pr, 'progress', await submit(pr, pr.getByRole('button', { name: 'Post progress' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /the people who spoke have been told/);

    // The participant sees the notification and replies.
    await check(p, 'news-390', await load(p, url('/programmes')));
    const news = p.locator('#news + ul').getByRole('link', { name: title });
    assert.equal(await news.count(), 1, 'the notification names the action');
    assert.match(await news.locator('xpath=..').textContent(), /New/);
    await check(p, 'action-390', await submit(p, news));
    assert.equal(new URL(p.url()).pathname, action);
    assert.match(await p.textContent('main'), /heating on at 8/);
    await p.getByLabel('Your reply').fill('Thank you, that will help a lot.');
    await check(p, 'replied-390', await submit(p, p.getByRole('button', { name: 'Send reply' })));
    assert.match(await p.textContent('.nhsuk-notification-banner'), /Your reply is sent/);
    await check(pr, 'reply-seen', await load(pr, url(action)));
    assert.match(await pr.textContent('main'), /Thank you, that will help a lot/);

    // The public board shows the action and its progress, and nobody's name or words.
    await a.setViewportSize({ width: 390, height: 844 });
    await check(a, 'board-390', await load(a, url(`${programme}/board`)));
    const board = await a.textContent('main');
    assert.ok(board.includes(title) && board.includes('heating on at 8'));
    for (const hidden of ['Jordan', 'Priya', said, 'Thank you, that will help']) assert.ok(!board.includes(hidden), `the board shows "${hidden}"`);
    await check(a, 'about-390', await load(a, url(`${programme}/about`)));
    assert.ok(!(await a.textContent('main')).includes(said), 'a team-only voice is not public');

    // Without an account: the practitioner makes a link and QR code; someone at the session
    // shares through it on a phone, then withdraws with the private link they were given.
    await check(pr, 'link', await load(pr, url(`${programme}/link?days=7`)));
    const share = await pr.getByRole('link', { name: /\/share\// }).getAttribute('href');
    assert.equal(await pr.locator('img[alt="QR code for the link"]').count(), 1);
    await check(a, 'share-390', await load(a, url(new URL(share).pathname)));
    await a.getByLabel('A moment that mattered').check();
    await a.getByLabel('What you want to say').fill('Singing again after years.');
    await a.getByLabel('Every member of the programme').check();
    await check(a, 'shared-anonymously-390', await submit(a, a.getByRole('button', { name: 'Share', exact: true })));
    await check(a, 'withdraw-anonymous-390', await submit(a, a.getByRole('link', { name: 'Withdraw what I shared' })));
    await check(a, 'withdrawn-anonymous-390', await submit(a, a.getByRole('button', { name: 'Withdraw' })));
    assert.match(await a.textContent('h1'), /^Withdrawn$/);
    await check(a, 'share-forged-390', await load(a, url(`${new URL(share).pathname}x`)), { expectStatus: 400 });
    assert.match(await a.textContent('main'), /This link is not valid/);

    // The participant withdraws it: gone from the action and from the space at once.
    await load(p, url(voice));
    await submit(p, p.getByRole('button', { name: 'Withdraw' }));
    await check(p, 'withdrawn-390', await load(p, url(programme)));
    assert.ok(!(await p.textContent('main')).includes(said));
    assert.equal((await load(p, url(voice))).response.status(), 404);
  } finally {
    await p.close();
    await pr.close();
    await anon.close();
  }
});

// ---------------------------------------------------------------------------
// Home pages that lead with each role's jobs; the link worker's caseload (new unassigned
// referrals beside their own) and the case page (contact details first, the rest folded);
// text messages in the administrator's outbox. At 390 and 1280 px, with axe's WCAG 2.2 AA,
// target-size and best-practice rules (checkPage) and no sideways scrolling.

const HOME_JOBS = {
  participant: ['Your plan', 'Your check-ins'],
  practitioner: ["Today's sessions", 'The coming week', 'Referrals to answer'],
  link_worker: ['Referrals'],
  clinician: ['Incidents and concerns to follow up', 'Referrals you made'],
  programme_manager: ['Your activities', 'Measurement plans', 'Competency framework'],
  researcher: ['Evaluation datasets'],
  commissioner: ['Activities across the city region'],
  administrator: ['Waiting for an administrator'],
  co_researcher: ['Questionnaires waiting for your review'],
};

/** checkPage plus sideways scrolling at the page's own width; fails the test on any problem. */
async function checkWide(page, t, label, result, opts = {}) {
  const problems = await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `homes--${label}`, ...opts });
  const overflow = await horizontalOverflow(page);
  if (overflow) problems.push(`${label}: ${overflow}`);
  assertNoProblems(problems, t);
}

async function mainHeadings(page) {
  return page.$$eval('main h2', (hs) => hs.map((h) => h.textContent.replace(/\s+/g, ' ').trim()));
}

for (const role of ROLES) {
  test(`homes: the ${role}'s home page leads with their jobs at 390 and 1280 px`, { skip: NO_ACCOUNTS }, async (t) => {
    const ctx = sessions.get(role);
    assert.ok(ctx, `${role} did not sign in`);
    const page = await ctx.newPage();
    try {
      for (const [width, height] of [[390, 844], [1280, 800]]) {
        await page.setViewportSize({ width, height });
        await checkWide(page, t, `${role}-home-${width}`, await load(page, url('/')));
        const headings = await mainHeadings(page);
        const jobs = HOME_JOBS[role];
        assert.deepEqual(headings.slice(0, jobs.length), jobs, `${role} at ${width}px leads with ${jobs.join(', ')}: ${headings.join(' | ')}`);
        assert.ok(headings.indexOf('Your roles') > jobs.length - 1, 'the jobs come before the roles');
      }
      const text = (await page.textContent('main')).replace(/\s+/g, ' ');
      if (role === 'link_worker') assert.match(text, /\d+ new referrals? nobody has taken on yet|No new referrals are waiting/);
      if (role === 'link_worker') assert.match(text, /You have \d+ open referrals?/);
      if (role === 'programme_manager') assert.match(text, /\d+ activit(y is|ies are) listed/);
      if (role === 'programme_manager') assert.match(text, /\d+ of your \d+ listed activities (has|have) a measurement plan/);
      if (role === 'clinician') assert.ok(/None are open/.test(text) || (await page.locator('main a[href^="/incidents/"]').count()) > 0, 'open incidents are listed or said to be none');
      if (role === 'practitioner') assert.ok((await page.locator('.ensemble-today').count()) > 0, "today's sessions are listed");
      if (role === 'administrator') assert.match(text, /care roles? (is|are) waiting|No care roles are waiting/);
      if (role === 'researcher') assert.match(text, /agree to their information being used for evaluation: (fewer than 8|\d+)/);
      if (role === 'participant') assert.ok(!/metric|snomed/i.test(text), 'plain words on the participant home');
    } finally {
      await page.close();
    }
  });
}

test('homes: the link worker sees new unassigned referrals beside their own, and the case page leads with contact details and folds the rest, at 390 and 1280 px', { skip: NO_ACCOUNTS, timeout: 3 * 60_000 }, async (t) => {
  const lw = sessions.get('link_worker');
  assert.ok(lw, 'link worker did not sign in');
  const page = await lw.newPage();
  try {
    let casePath;
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      await page.setViewportSize({ width, height });
      await checkWide(page, t, `caseload-${width}`, await load(page, url('/caseload')));
      const headings = await mainHeadings(page);
      const newAt = headings.indexOf('New referrals nobody has taken on');
      const mineAt = headings.indexOf('Your referrals');
      assert.ok(newAt >= 0 && mineAt > newAt, `new referrals first, then the link worker's own: ${headings.join(' | ')}`);
      // Sam (unassigned in the demo) is listed among the new ones; Riley (Lee's) among Lee's own.
      const inNew = await page.$$eval('#new ~ *', (els) => {
        const out = [];
        for (const el of els) {
          if (el.id === 'mine') break;
          out.push(...[...el.querySelectorAll('a[href^="/caseload/"]')].map((a) => a.textContent.trim()));
        }
        return out;
      });
      assert.ok(inNew.includes('Sam Example'), `Sam is a new referral: ${inNew}`);
      assert.ok(!inNew.includes('Riley Example'), 'Riley is Lee\'s own, not new');
      const mine = await page.$$eval('#mine ~ * a[href^="/caseload/"]', (as) => as.map((a) => a.textContent.trim()));
      assert.ok(mine.includes('Riley Example'), `Riley is among Lee's own: ${mine}`);
      casePath = await page.getAttribute('#mine ~ * a:text-is("Riley Example")', 'href');

      await checkWide(page, t, `case-${width}`, await load(page, url(casePath)));
      const caseHeadings = await mainHeadings(page);
      assert.deepEqual(caseHeadings.slice(0, 2), ['Contact details and communication needs', 'Next step'], caseHeadings.join(' | '));
      const contact = await page.$eval('#contact + dl', (dl) => dl.textContent.replace(/\s+/g, ' '));
      assert.match(contact, /Communication needs/);
      assert.match(contact, /Prefers to be contacted by/);
      // The rest is folded: every section closed, and opening one shows its content.
      const sections = page.locator('details.ensemble-case-section');
      assert.ok((await sections.count()) >= 7, 'the case is folded into sections');
      assert.equal(await page.locator('details.ensemble-case-section[open]').count(), 0, 'closed at first');
      assert.ok(!(await page.getByText('Received', { exact: true }).first().isVisible()), 'the referral details are folded');
      await page.locator('details.ensemble-case-section summary', { hasText: 'About the referral' }).click();
      assert.ok(await page.locator('#about').isVisible(), 'the section opens');
      await checkWide(page, t, `case-about-open-${width}`, { response: null, errors: [] }, { expectStatus: 'any' });
    }
    // Without JavaScript the sections still open (native details).
    const noJs = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 390, height: 844 }, javaScriptEnabled: false, storageState: await lw.storageState() });
    try {
      const p = await noJs.newPage();
      await p.goto(url(casePath));
      await p.locator('details.ensemble-case-section summary', { hasText: 'Tasks' }).click();
      assert.ok(await p.locator('#tasks').isVisible(), 'the tasks section opens without JavaScript');
      assert.ok(await p.locator('#title').isVisible(), 'and its form is usable');
    } finally {
      await noJs.close();
    }
  } finally {
    await page.close();
  }
});

test('homes: the administrator sees text messages in the outbox and filters by channel, at 390 and 1280 px', { skip: NO_ACCOUNTS, timeout: 2 * 60_000 }, async (t) => {
  const admin = sessions.get('administrator');
  assert.ok(admin, 'administrator did not sign in');
  const page = await admin.newPage();
  try {
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      await page.setViewportSize({ width, height });
      await checkWide(page, t, `outbox-${width}`, await load(page, url('/admin/outbox')));
      const channels = await page.$$eval('tr[data-channel]', (rows) => rows.map((r) => r.dataset.channel));
      assert.ok(channels.includes('email'), 'the demo\'s emails are listed');
      if (channels.length) assert.equal(await page.locator('th', { hasText: 'Channel' }).count(), 1, 'a channel column');
      await page.selectOption('#channel', 'sms');
      await checkWide(page, t, `outbox-sms-${width}`, await submit(page, page.getByRole('button', { name: 'Show' })));
      assert.match(page.url(), /channel=sms/);
      const texts = await page.$$eval('tr[data-channel]', (rows) => rows.map((r) => r.dataset.channel));
      assert.ok(texts.every((c) => c === 'sms'), `only text messages: ${texts}`);
      if (texts.length) assert.match(await page.textContent('tbody'), /Text message/);
      else assert.match(await page.textContent('main'), /No messages yet/);
      await page.selectOption('#channel', 'email');
      await submit(page, page.getByRole('button', { name: 'Show' }));
      const emails = await page.$$eval('tr[data-channel]', (rows) => rows.map((r) => r.dataset.channel));
      assert.ok(emails.length > 0 && emails.every((c) => c === 'email'), `only emails: ${emails}`);
    }
    // A made-up channel is named, not a 500.
    await checkWide(page, t, 'outbox-bad-channel', await load(page, url('/admin/outbox?channel=fax')), { expectStatus: 422 });
    assert.ok(await page.locator('.nhsuk-error-summary a[href="#channel"]').count(), 'the error summary names the channel filter');
  } finally {
    await page.close();
  }
});

// ---------------------------------------------------------------- programmes: co-analysis themes

test('themes: a practitioner adds a theme and codes a voice at 390 px; the themes page shows it; a participant is refused', { skip: NO_ACCOUNTS, timeout: 3 * 60_000 }, async (t) => {
  const practitioner = sessions.get('practitioner');
  const participant = sessions.get('participant');
  assert.ok(practitioner && participant, 'practitioner and participant signed in');
  const name = `Warmth ${Date.now()}`;
  const pr = await practitioner.newPage();
  const p = await participant.newPage();
  const check = async (page, label, result, opts = {}) => {
    assertNoProblems(await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `themes--${label}`, ...opts }), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= page.viewportSize().width, `${label}: scrollWidth ${width}px`);
  };
  try {
    await pr.setViewportSize({ width: 390, height: 844 });
    await load(pr, url('/programmes'));
    const programme = await pr.getByRole('link', { name: 'Music and Mind, Liverpool 2026' }).getAttribute('href');
    await load(pr, url(programme));
    await check(pr, 'themes-390', await submit(pr, pr.getByRole('link', { name: 'Themes, and how far coders agree' })));
    const empty = await submit(pr, pr.getByRole('button', { name: 'Add theme' }));
    await check(pr, 'theme-empty-390', empty, { expectStatus: 422 });
    assert.match(await pr.textContent('.nhsuk-error-summary'), /Enter a name for the theme/);
    await pr.locator('#name').fill(name);
    await pr.locator('#description').fill('The room, the welcome and the tea.');
    await check(pr, 'theme-added-390', await submit(pr, pr.getByRole('button', { name: 'Add theme' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /Theme added/);

    // Code the newest voice the practitioner may read.
    await load(pr, url(programme));
    const voice = await pr.locator('main a[href^="/voices/"]').first().getAttribute('href');
    await check(pr, 'voice-390', await load(pr, url(voice)));
    await pr.getByLabel(name).check();
    await check(pr, 'coded-390', await submit(pr, pr.getByRole('button', { name: 'Save themes' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /Your themes for this voice are saved/);
    assert.ok(await pr.getByLabel(name).isChecked(), 'the tick is kept');

    await check(pr, 'themes-coded-390', await load(pr, url(`${programme}/themes`)));
    assert.equal(await pr.getByRole('heading', { name, level: 2 }).count(), 1);
    assert.match(await pr.textContent('main'), /fewer than 8/);

    // An ordinary participant is refused the themes page and sees no coding form.
    await p.setViewportSize({ width: 390, height: 844 });
    await check(p, 'themes-refused-390', await load(p, url(`${programme}/themes`)), { expectStatus: 403 });
  } finally {
    await pr.close();
    await p.close();
  }
});

// ---------------------------------------------------------------------------
test('proposals: a participant proposes from a phone; a practitioner supports and comments; the panel with a co-researcher accepts and starts an action; the decisions log links it', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const participant = sessions.get('participant');
  const practitioner = sessions.get('practitioner');
  assert.ok(participant && practitioner, 'participant and practitioner signed in');
  const title = `Write our own feedback questions ${Date.now()}`;
  const actionTitle = `Draft the questions with participants ${Date.now()}`;
  const p = await participant.newPage();
  const pr = await practitioner.newPage();
  const anon = await newContext();
  const a = await anon.newPage();
  const check = async (page, label, result, opts = {}) => {
    assertNoProblems(await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `proposals--${label}`, ...opts }), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= page.viewportSize().width, `${label}: scrollWidth ${width}px`);
  };
  try {
    // The participant, on a 390 px phone, proposes (an empty form first).
    await p.setViewportSize({ width: 390, height: 844 });
    await load(p, url('/programmes'));
    const programme = await p.getByRole('link', { name: 'Music and Mind, Liverpool 2026' }).getAttribute('href');
    await load(p, url(programme));
    await check(p, 'proposals-390', await submit(p, p.getByRole('link', { name: /^Proposals/ })));
    const empty = await submit(p, p.getByRole('button', { name: 'Propose' }));
    await check(p, 'propose-empty-390', empty, { expectStatus: 422 });
    assert.match(await p.textContent('.nhsuk-error-summary'), /Choose what you are proposing/);
    await p.getByLabel('A research question').check();
    await p.locator('#title').fill(title);
    await p.locator('#body').fill('We would like to ask each other what helps, in our own words, not only the standard scales.');
    await check(p, 'proposed-390', await submit(p, p.getByRole('button', { name: 'Propose' })));
    assert.match(await p.textContent('.nhsuk-notification-banner'), /Your proposal is shared/);
    const proposal = new URL(p.url()).pathname;

    // A staff member supports and comments.
    await check(pr, 'proposal-staff', await load(pr, url(proposal)));
    await check(pr, 'supported', await submit(pr, pr.getByRole('button', { name: 'Support this proposal' })));
    assert.match(await pr.textContent('main'), /1 supporter/);
    await pr.getByLabel('Your comment').fill('Yes: <b>we</b> could try it at the next review.');
    await check(pr, 'commented', await submit(pr, pr.getByRole('button', { name: 'Add comment' })));
    assert.match(await pr.textContent('main'), /<b>we<\/b> could try it/);

    // The panel (Priya with Robin, a co-researcher) accepts with reasons; Priya records it.
    await check(pr, 'under-review', await submit(pr, pr.getByRole('button', { name: 'Send to the decision panel' })));
    await pr.getByLabel('Accepted').check();
    await pr.getByLabel('Reasons for the decision').fill('Participants asked for it and the evaluation team can support it.');
    await pr.getByLabel('Date of the decision').fill(new Date().toISOString().slice(0, 10));
    const lived = pr.locator('input[name=present]');
    assert.ok((await pr.textContent('#decide ~ form')).includes('(lived experience)'), 'the panel has lived experience');
    for (let i = 0; i < (await lived.count()); i++) await lived.nth(i).check();
    await check(pr, 'decided', await submit(pr, pr.getByRole('button', { name: 'Record decision' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /Decision recorded/);

    // From the decisions log, the decision starts an action on the board.
    await check(pr, 'log', await load(pr, url(`${programme}/decisions`)));
    const card = pr.locator('.nhsuk-card', { hasText: title });
    await check(pr, 'new-action', await submit(pr, card.getByRole('link', { name: 'Start an action on the board from this decision' })));
    await pr.getByLabel('What will change').fill(actionTitle);
    await pr.getByLabel('What you heard and what you will do').fill('We will draft three questions with the co-researchers.');
    const owner = await pr.$$eval('#owner_id option', (os) => os.find((o) => o.textContent.includes('Priya'))?.value);
    await pr.selectOption('#owner_id', owner);
    await pr.getByLabel('Due date').fill('2027-02-28');
    await check(pr, 'action', await submit(pr, pr.getByRole('button', { name: 'Start action' })));
    const action = new URL(pr.url()).pathname;
    await check(pr, 'log-linked', await load(pr, url(`${programme}/decisions`)));
    const linked = pr.locator('.nhsuk-card', { hasText: title });
    assert.equal(await linked.locator(`a[href="${action}"]`).count(), 1, 'the decision links its action');
    assert.equal(await linked.locator(`a[href="${proposal}"]`).count(), 1, 'the decision links its proposal');
    assert.match(await linked.textContent(), /lived experience/);

    // The proposer is told; the public log shows the decision without names.
    await check(p, 'news-390', await load(p, url(`${programme}/proposals`)));
    assert.match(await p.textContent('main'), new RegExp(`${title}: accepted \\(new\\)`));
    await check(p, 'decided-390', await load(p, url(proposal)));
    assert.match(await p.textContent('main'), /Accepted/);
    await a.setViewportSize({ width: 390, height: 844 });
    await check(a, 'public-log-390', await load(a, url(`${programme}/decisions`)));
    const pub = await a.textContent('main');
    assert.ok(pub.includes(title) && pub.includes(actionTitle), 'the public log shows the decision and its action');
    assert.ok(!pub.includes('Priya') && !pub.includes('Robin'), 'the public log names nobody');
  } finally {
    await p.close();
    await pr.close();
  }
});

// ---------------------------------------------------------------- programmes: plan, updates and feed

test('plans: a responsible member changes the plan with a reason at 390 px, compares two revisions in the history and posts an update that the public page and feed show', { skip: NO_ACCOUNTS, timeout: 4 * 60_000 }, async (t) => {
  const practitioner = sessions.get('practitioner');
  assert.ok(practitioner, 'practitioner signed in');
  const stamp = Date.now();
  const line = `Offer a quiet room after each group ${stamp}`;
  const news = `Quiet room opens ${stamp}`;
  const pr = await practitioner.newPage();
  const anon = await newContext();
  const a = await anon.newPage();
  const narrow = await narrowContextLike(practitioner);
  const n = await narrow.newPage();
  const check = async (page, label, result, opts = {}) => {
    assertNoProblems(await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `plans--${label}`, ...opts }), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= page.viewportSize().width, `${label}: scrollWidth ${width}px at ${page.viewportSize().width}px`);
  };
  try {
    await pr.setViewportSize({ width: 390, height: 844 });
    await load(pr, url('/programmes'));
    const programme = await pr.getByRole('link', { name: 'Music and Mind, Liverpool 2026' }).getAttribute('href');
    await load(pr, url(programme));
    await check(pr, 'plan-390', await submit(pr, pr.getByRole('link', { name: 'The plan', exact: true })));
    await check(pr, 'edit-390', await submit(pr, pr.getByRole('link', { name: 'Change the plan' })));
    // Saving without a reason names the field and keeps the text.
    await pr.locator('#body').fill(`${await pr.locator('#body').inputValue()}\n${line}`);
    const refused = await submit(pr, pr.getByRole('button', { name: 'Save as a new revision' }));
    await check(pr, 'edit-no-reason-390', refused, { expectStatus: 422 });
    assert.match(await pr.textContent('.nhsuk-error-summary'), /Enter why you made this change/);
    assert.ok((await pr.locator('#body').inputValue()).includes(line), 'the text is kept');
    await pr.locator('#reason').fill('Participants asked for somewhere quiet to wind down.');
    await check(pr, 'saved-390', await submit(pr, pr.getByRole('button', { name: 'Save as a new revision' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /saved as a new revision/);
    assert.ok((await pr.textContent('main')).includes(line));

    // The history lists who changed what and why; comparing two revisions marks the change in words.
    await check(pr, 'history-390', await submit(pr, pr.getByRole('link', { name: 'History of changes' })));
    assert.match(await pr.textContent('main'), /Participants asked for somewhere quiet to wind down/);
    const numbers = await pr.$$eval('#from option', (os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(numbers.length >= 2, 'at least two revisions');
    await pr.selectOption('#from', numbers[numbers.length - 1]);
    await pr.selectOption('#to', numbers[0]);
    await check(pr, 'compare-390', await submit(pr, pr.getByRole('button', { name: 'Compare' })));
    const added = pr.locator('td', { has: pr.locator('ins', { hasText: line }) });
    assert.equal(await added.count(), 1, 'the new line is inside <ins>');
    assert.match(await added.textContent(), /Added/);
    assert.ok((await pr.locator('main').textContent()).match(/Removed|Added/), 'changes are named in words');
    const compareUrl = pr.url();
    for (const [label, target] of [['plan-320', `${programme}/plan`], ['history-320', `${programme}/plan/history`], ['compare-320', compareUrl]]) {
      assertNoProblems(await checkNarrow(n, url(target), label), t);
    }
    await pr.setViewportSize({ width: 1280, height: 800 });
    await check(pr, 'compare-1280', await load(pr, compareUrl));
    await pr.setViewportSize({ width: 390, height: 844 });

    // Two editors at once: Pat (a manager) saves first; Priya's save is refused (409) with
    // both versions compared and her text kept, and she merges and saves again.
    const pm = sessions.get('programme_manager');
    assert.ok(pm, 'programme manager signed in');
    const other = await pm.newPage();
    try {
      await load(pr, url(`${programme}/plan/edit`));
      await load(other, url(`${programme}/plan/edit`));
      await other.locator('#body').fill(`${await other.locator('#body').inputValue()}\nPat's line ${stamp}`);
      await other.locator('#reason').fill('A line from the partners.');
      await submit(other, other.getByRole('button', { name: 'Save as a new revision' }));
    } finally {
      await other.close();
    }
    await pr.locator('#body').fill(`${await pr.locator('#body').inputValue()}\nPriya's line ${stamp}`);
    await pr.locator('#reason').fill('My own addition.');
    await check(pr, 'conflict-390', await submit(pr, pr.getByRole('button', { name: 'Save as a new revision' })), { expectStatus: 409 });
    assert.match(await pr.textContent('main'), /Someone else saved the plan while you were editing it/);
    assert.ok((await pr.locator('#body').inputValue()).includes(`Priya's line ${stamp}`), 'her text is kept');
    assert.equal(await pr.locator('td', { has: pr.locator('ins', { hasText: `Pat's line ${stamp}` }) }).count(), 1, 'what Pat added is shown');
    await pr.locator('#body').fill(`${await pr.locator('#body').inputValue()}\nPat's line ${stamp}`);
    await check(pr, 'merged-390', await submit(pr, pr.getByRole('button', { name: 'Save as a new revision' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /saved as a new revision/);

    // An update for everyone, with a comment; the public page and the feed show it.
    await check(pr, 'updates-390', await load(pr, url(`${programme}/updates`)));
    await pr.locator('#title').fill(news);
    await pr.locator('#body').fill('The quiet room next to the hall is open for half an hour after every group.');
    await pr.getByLabel('Anyone: on the public page').check();
    await check(pr, 'update-390', await submit(pr, pr.getByRole('button', { name: 'Post update' })));
    assert.match(await pr.textContent('.nhsuk-notification-banner'), /Your update is posted/);
    await pr.getByLabel('Add a comment').fill('The venue has put in two armchairs.');
    await check(pr, 'commented-390', await submit(pr, pr.getByRole('button', { name: 'Post comment' })));
    assert.match(await pr.textContent('main'), /two armchairs/);

    await a.setViewportSize({ width: 390, height: 844 });
    await check(a, 'about-390', await load(a, url(`${programme}/about`)));
    assert.ok((await a.textContent('main')).includes(news), 'the public page shows the update');
    assert.ok(!(await a.textContent('main')).includes('two armchairs'), 'comments stay with members');
    const feed = await a.getAttribute('link[rel=alternate][type="application/atom+xml"]', 'href');
    assert.equal(feed, `${programme}/feed.atom`);
    const res = await a.request.get(url(feed));
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^application\/atom\+xml/);
    assert.ok((await res.text()).includes(news), 'the feed holds the update');
  } finally {
    await pr.close();
    await n.close();
    await narrow.close();
    await anon.close();
  }
});

// ---------------------------------------------------------------- area insight: deprivation by district

test('areas: the city-region page and Liverpool\'s page pass axe at 390 px and 320 px, with the "63%" examined', async (t) => {
  const ctx = await newContext();
  const narrow = await browser.newContext({ baseURL: BASE_URL, viewport: NARROW, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const check = async (label, p) => {
      const { response, errors } = await load(page, url(p));
      assertNoProblems(await checkPage(page, { label, response, errors, screenshot: `areas--${label}` }), t);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${label}: scrollWidth ${width}px`);
      assertNoProblems(await checkNarrow(await narrow.newPage(), url(p), `${label} at 320 px`), t);
    };
    await check('areas-390', '/areas');
    const main = await page.textContent('main');
    assert.match(main, /3rd of 317/);
    assert.match(main, /9th of 296/);
    assert.match(main, /boundaries changed in 2021/);
    await page.getByRole('link', { name: 'Liverpool' }).first().click();
    await page.waitForURL(/\/areas\/districts\/E08000012$/);
    await check('liverpool-390', '/areas/districts/E08000012');
    const text = await page.textContent('main');
    assert.match(text, /62\.75%/);
    assert.match(text, /62\.2%/);
    assert.match(text, /Change 2019 to 2025/);
    assert.match(text, /Open Government Licence v3\.0/);
    assert.equal(await page.getByRole('table').count(), 2, 'figures and the LSOAs-versus-residents table');
    const missing = await load(page, url('/areas/districts/E99999999'));
    assert.equal(missing.response.status(), 404);
  } finally {
    await ctx.close();
    await narrow.close();
  }
});

// ---------------------------------------------------------------------------
// Staying connected (issue 15, item 7): a participant on a phone opens their feed, sees
// news of progress on what they shared, marks it read, and switches the weekly digest off
// on the notification settings page. Every page passes axe.

test('connected: a participant at 390 px sees a progress notification in the feed and switches the weekly digest off', { skip: NO_ACCOUNTS, timeout: 5 * 60_000 }, async (t) => {
  const participant = sessions.get('participant');
  const practitioner = sessions.get('practitioner');
  assert.ok(participant && practitioner, 'participant and practitioner signed in');
  const title = `Quieter room for the group ${Date.now()}`;
  const p = await participant.newPage();
  const pr = await practitioner.newPage();
  const check = async (page, label, result, opts = {}) => {
    assertNoProblems(await checkPage(page, { label, response: result.response, errors: result.errors, screenshot: `connected--${label}`, ...opts }), t);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= page.viewportSize().width, `${label}: scrollWidth ${width}px`);
  };
  try {
    // The participant shares feedback; the practitioner turns it into an action and posts progress.
    await p.setViewportSize({ width: 390, height: 844 });
    await load(p, url('/programmes'));
    const programme = await p.getByRole('link', { name: 'Music and Mind, Liverpool 2026' }).getAttribute('href');
    await load(p, url(programme));
    await p.getByLabel('Feedback').check();
    await p.getByLabel('What you want to say').fill(`The hall is noisy ${Date.now()}`);
    await p.getByLabel('The programme team only').check();
    await submit(p, p.getByRole('button', { name: 'Share', exact: true }));
    const voice = new URL(p.url()).pathname;
    await load(pr, url(voice));
    await submit(pr, pr.getByRole('link', { name: 'Turn this into an action' }));
    await pr.getByLabel('What will change').fill(title);
    await pr.getByLabel('What you heard and what you will do').fill('People said the hall is noisy. We will book the small room.');
    const owner = await pr.$$eval('#owner_id option', (os) => os.find((o) => o.textContent.includes('Priya'))?.value);
    await pr.selectOption('#owner_id', owner);
    await pr.getByLabel('Due date').fill('2027-02-28');
    await submit(pr, pr.getByRole('button', { name: 'Start action' }));
    await pr.getByLabel('What has happened').fill('The small room is booked from next week.');
    await pr.getByLabel('In progress').check();
    await submit(pr, pr.getByRole('button', { name: 'Post progress' }));

    // The feed shows the news, marked new, with its programme; marking read clears it.
    await check(p, 'feed-390', await load(p, url('/feed')));
    const item = p.locator('.ensemble-feed__item', { hasText: title }).filter({ hasText: 'News on what you told us' });
    assert.equal(await item.count(), 1, 'the notification is in the feed');
    assert.equal(await item.locator('strong.nhsuk-tag', { hasText: /^New$/ }).count(), 1, 'marked New');
    assert.match(await item.textContent(), /Music and Mind, Liverpool 2026/);
    await check(p, 'feed-read-390', await submit(p, p.getByRole('button', { name: 'Mark all as read' })));
    assert.equal(await p.locator('.ensemble-feed__item', { hasText: title }).locator('strong.nhsuk-tag').count(), 0, 'no longer marked New');

    // Settings: switch the weekly digest off and save.
    await check(p, 'settings-390', await submit(p, p.getByRole('link', { name: 'Notification settings' })));
    await p.getByLabel('No weekly digest').check();
    await check(p, 'settings-saved-390', await submit(p, p.getByRole('button', { name: 'Save settings' })));
    assert.match(await p.textContent('main'), /Your notification settings are saved/);
    assert.ok(await p.getByLabel('No weekly digest').isChecked(), 'the digest is off');
  } finally {
    await p.close();
    await pr.close();
  }
});

// ---------------------------------------------------------------- area insight: provision, cold spots and maps

test('coldspots: provision, cold spots and both maps pass axe at 390 px and 320 px', async (t) => {
  const ctx = await newContext();
  const narrow = await browser.newContext({ baseURL: BASE_URL, viewport: NARROW, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const check = async (label, p) => {
      const { response, errors } = await load(page, url(p));
      assertNoProblems(await checkPage(page, { label, response, errors, screenshot: `coldspots--${label}` }), t);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${label}: scrollWidth ${width}px`);
      assertNoProblems(await checkNarrow(await narrow.newPage(), url(p), `${label} at 320 px`), t);
    };
    await check('provision-390', '/areas/provision');
    assert.match(await page.textContent('main'), /Decile 1 \(most deprived\)/);
    await check('cold-spots-390', '/areas/cold-spots?filter=evening');
    assert.match(await page.textContent('main'), /furthest first/);
    await check('map-deprivation-390', '/areas/map?of=deprivation');
    const svg = page.locator('svg.ensemble-map');
    const box = await svg.boundingBox();
    assert.ok(box && box.width <= 390, `the map scales: ${box && box.width}px`);
    assert.ok((await page.locator('svg.ensemble-map a[href^="#ward-"]').count()) > 100, 'a link per ward');
    await check('map-provision-390', '/areas/map?of=provision');
    // A ward on the map is reachable from the keyboard and leads to its table row.
    await page.locator('svg.ensemble-map a[href^="#ward-"]').first().focus();
    const focused = await page.evaluate(() => document.activeElement.getAttribute('href'));
    assert.match(focused || '', /^#ward-E05/);
    const bad = await load(page, url('/areas/cold-spots?filter=cheap'));
    assert.equal(bad.response.status(), 400);
  } finally {
    await ctx.close();
    await narrow.close();
  }
});

test('geo: the small-area deprivation maps of both editions and a wrong-geography code pass axe at 390 px and 320 px', async (t) => {
  const ctx = await newContext();
  const narrow = await browser.newContext({ baseURL: BASE_URL, viewport: NARROW, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const check = async (label, p, status = 200) => {
      const { response, errors } = await load(page, url(p));
      assert.equal(response.status(), status, label);
      const expectStatus = status === 200 ? undefined : status;
      assertNoProblems(await checkPage(page, { label, response, errors, expectStatus, screenshot: `geo--${label}` }), t);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${label}: scrollWidth ${width}px`);
      assertNoProblems(await checkNarrow(await narrow.newPage(), url(p), `${label} at 320 px`), t);
    };
    for (const edition of ['2025', '2019']) {
      await check(`lsoa-map-${edition}-390`, `/areas/map?of=deprivation&level=lsoa&district=E08000012&edition=${edition}`);
      const box = await page.locator('svg.ensemble-map').boundingBox();
      assert.ok(box && box.width <= 390, `the map scales: ${box && box.width}px`);
      const links = await page.locator('svg.ensemble-map a[href^="/areas/lsoas/E01"]').count();
      assert.equal(links, edition === '2025' ? 302 : 298, `a link per small area (${edition})`);
      assert.equal(await page.locator('svg.ensemble-map path[fill="url(#no-data)"]').count(), 0, `every area has data (${edition})`);
    }
    // A small area on the map is reachable from the keyboard and opens its profile.
    await page.locator('svg.ensemble-map a[href^="/areas/lsoas/"]').first().focus();
    const focused = await page.evaluate(() => document.activeElement.getAttribute('href'));
    assert.match(focused || '', /^\/areas\/lsoas\/E01\d{6}\?edition=2019$/);
    await check('wrong-geography-390', '/areas/lsoas/E01006513?edition=2025', 404);
    assert.match(await page.textContent('main'), /E01034405/);
  } finally {
    await ctx.close();
    await narrow.close();
  }
});

// ---------------------------------------------------------------- area insight: reach and ward profiles

test('reach: a commissioner opens /areas/reach, /areas/barriers, the reach-ratio map and a ward profile; axe at 390 px and 320 px', async (t) => {
  const account = ACCOUNTS.get('commissioner');
  const ctx = await newContext();
  let narrow;
  try {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await load(page, url('/sign-in'));
    await page.fill('#email', account.email);
    await page.fill('#password', account.password);
    await submit(page, await signInButton(page));
    assert.ok(!isSignInPage(page.url()), 'commissioner signed in');
    narrow = await narrowContextLike(ctx);
    const check = async (label, p) => {
      const { response, errors } = await load(page, url(p));
      assertNoProblems(await checkPage(page, { label, response, errors, screenshot: `reach--${label}` }), t);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${label}: scrollWidth ${width}px`);
      assertNoProblems(await checkNarrow(await narrow.newPage(), url(p), `${label} at 320 px`), t);
    };
    await check('reach-390', '/areas/reach');
    const main = await page.textContent('main');
    assert.match(main, /Referral ratio/);
    assert.match(main, /Liverpool City Region/);
    assert.match(main, /Figures as at/);
    // The reach-ratio map, linked from the reach page: legend in words, the same table.
    await check('reach-map-390', '/areas/map?of=reach');
    const mapText = await page.textContent('main');
    assert.match(mapText, /under-reached: ratio below 0\.8/);
    assert.match(mapText, /Referral reach ratio by ward \(the figures on the map\)/);
    await check('barriers-390', '/areas/barriers');
    assert.match(await page.textContent('main'), /Barriers by when they were raised/);
    await load(page, url('/areas/districts/E08000012'));
    const ward = page.locator('a[href^="/areas/wards/"]').first();
    assert.ok((await ward.count()) === 1, 'the district page links its wards');
    const href = await ward.getAttribute('href');
    await check('ward-390', href);
    assert.match(await page.textContent('main'), /People reached/);
    const missing = await load(page, url('/areas/wards/E05999999'));
    assert.equal(missing.response.status(), 404);
  } finally {
    await ctx.close();
    if (narrow) await narrow.close();
  }
});

// ---------------------------------------------------------------- evaluation: programme reports (issue 17)

const EVALUATION_PROGRAMME = 'Music and Mind, Liverpool 2026';

/** A fresh context signed in as `role` (the crawl's sessions are shared; these are not). */
async function signedInContext(role, viewport = { width: 390, height: 844 }) {
  const account = ACCOUNTS.get(role);
  assert.ok(account, `no account for role ${role} in ACCOUNTS_FILE`);
  const ctx = await browser.newContext({ baseURL: BASE_URL, viewport, serviceWorkers: 'block' });
  const page = await ctx.newPage();
  await load(page, url('/sign-in'));
  await page.fill('#email', account.email);
  await page.fill('#password', account.password);
  await submit(page, await signInButton(page));
  assert.ok(!isSignInPage(page.url()), `${role} signed in`);
  await page.close();
  return ctx;
}

/** The demo evaluation programme's id, from the links of the programmes list. */
async function evaluationProgrammeId(page) {
  await load(page, url('/programmes'));
  const hrefs = await page.$$eval('a[href^="/programmes/"]', (as, name) =>
    as.filter((a) => a.textContent.replace(/\s+/g, ' ').trim() === name).map((a) => a.getAttribute('href')), EVALUATION_PROGRAMME);
  const ids = [...new Set(hrefs.map((h) => (h.match(/^\/programmes\/([^/?#]+)/) || [])[1]).filter(Boolean))];
  assert.equal(ids.length, 1, `one link to "${EVALUATION_PROGRAMME}" on /programmes (found ${JSON.stringify(hrefs)})`);
  return ids[0];
}

/** Load `p` at 390 px, run the standard checks and axe, then check 320 px for sideways scrolling. */
async function checkEvaluationPage(t, page, narrow, label, p, opts = {}) {
  const { response, errors } = await load(page, url(p));
  assertNoProblems(await checkPage(page, { label, response, errors, screenshot: `evaluation--${label}`, ...opts }), t);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${label}: scrollWidth ${width}px at 390 px`);
  assertNoProblems(await checkNarrow(await narrow.newPage(), url(p), `${label} at 320 px`), t);
  return response;
}

test('evaluation: the programme manager and the commissioner open the report, the index, the comparison and the budget; the administrator the unit costs; axe at 390 px and 320 px', { skip: NO_ACCOUNTS, timeout: 6 * 60_000 }, async (t) => {
  const contexts = [];
  try {
    for (const role of ['programme_manager', 'commissioner', 'administrator']) {
      const ctx = await signedInContext(role);
      const narrow = await narrowContextLike(ctx);
      contexts.push(ctx, narrow);
      const page = await ctx.newPage();
      const who = role === 'programme_manager' ? 'pat' : role === 'commissioner' ? 'casey' : 'admin';
      if (role === 'administrator') {
        await checkEvaluationPage(t, page, narrow, `${who}-unit-costs`, '/evaluation/unit-costs');
        assert.match(await page.textContent('main'), /unit cost/i);
        continue;
      }
      const id = await evaluationProgrammeId(page);
      await checkEvaluationPage(t, page, narrow, `${who}-report`, `/programmes/${id}/evaluation`);
      const main = await page.textContent('main');
      assert.match(main, /WELLBY/, `${who}: the report has the value section`);
      assert.match(main, /£10,000/, `${who}: the value is shown with its range`);
      await checkEvaluationPage(t, page, narrow, `${who}-index`, '/evaluation');
      assert.ok(await page.locator(`main a[href^="/programmes/${id}/evaluation"]`).count() >= 1, `${who}: the index links the demo programme's report`);
      const compare = await page.locator('main a[href^="/evaluation/compare"]').first().getAttribute('href').catch(() => null);
      await checkEvaluationPage(t, page, narrow, `${who}-compare`, compare || '/evaluation/compare');
      if (role === 'programme_manager') {
        await checkEvaluationPage(t, page, narrow, `${who}-budget`, `/programmes/${id}/evaluation/budget`);
        assert.ok(await page.locator('main form').count() >= 1, 'the budget page has a form');
      }
    }
  } finally {
    for (const c of contexts) await c.close();
  }
});

/** A4 at 96 dpi with the margins the PDF is printed with. */
const A4 = { width: (210 / 25.4) * 96, height: (297 / 25.4) * 96 };
const PRINT_MARGIN_MM = 15;
const PRINT_MARGIN_PX = (PRINT_MARGIN_MM / 25.4) * 96;

/** Problems of the page open under print media: cut tables and figures, visible chrome, charts without text. */
async function printProblems(page, printableHeight) {
  return page.evaluate((limit) => {
    const problems = [];
    const describe = (el) => {
      const caption = el.querySelector('caption, figcaption, title');
      const text = (caption ? caption.textContent : el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
      return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ("${text}")`;
    };
    const shown = (el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
    };
    const avoids = (el) => {
      for (let e = el; e && e !== document.body; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.breakInside === 'avoid' || s.breakInside === 'avoid-page' || s.pageBreakInside === 'avoid') return true;
      }
      return false;
    };
    const main = document.querySelector('main');
    if (!main) return ['no <main>'];
    let blocks = 0;
    for (const el of main.querySelectorAll('table, figure')) {
      if (!shown(el)) continue;
      blocks += 1;
      if (!avoids(el)) problems.push(`${describe(el)} may break across pages: no break-inside: avoid on it or around it`);
      const h = el.getBoundingClientRect().height;
      if (h > limit) problems.push(`${describe(el)} is ${Math.round(h)}px tall, more than a printed page (${Math.round(limit)}px): it will be cut`);
    }
    if (blocks === 0) problems.push('no table or figure is printed');
    for (const sel of ['.nhsuk-header', '.nhsuk-footer', 'header', 'footer', 'nav', '.nhsuk-skip-link']) {
      for (const el of document.querySelectorAll(sel)) {
        if (main.contains(el)) continue;
        if (shown(el)) problems.push(`the site's ${sel} is printed`);
      }
    }
    const charts = [...main.querySelectorAll('svg')].filter((s) => s.getAttribute('aria-hidden') !== 'true' && !s.closest('[aria-hidden="true"]'));
    for (const svg of charts) {
      const title = svg.querySelector(':scope > title');
      const desc = svg.querySelector(':scope > desc');
      const name = title ? title.textContent.trim() : '(untitled)';
      if (!title || !title.textContent.trim()) problems.push(`an <svg> chart has no <title>: ${describe(svg.closest('figure') || svg)}`);
      if (!desc || !desc.textContent.trim()) problems.push(`the chart "${name}" has no <desc>`);
      const around = svg.closest('figure') || svg.parentElement;
      let table = around.querySelector('table');
      for (let sib = around.nextElementSibling, i = 0; !table && sib && i < 2; sib = sib.nextElementSibling, i += 1) {
        table = sib.matches('table') ? sib : sib.querySelector('table');
      }
      if (!table) problems.push(`the chart "${name}" has no table with its numbers beside it`);
      else if (!shown(table)) problems.push(`the table of the chart "${name}" is not printed`);
    }
    return problems;
  }, printableHeight);
}

test('evaluation: the report prints to PDF in Chromium with no cut tables or figures, no site chrome, and charts with titles, descriptions and tables', { skip: NO_ACCOUNTS, timeout: 3 * 60_000 }, async (t) => {
  const printable = { width: Math.floor(A4.width - 2 * PRINT_MARGIN_PX), height: Math.floor(A4.height - 2 * PRINT_MARGIN_PX) };
  const ctx = await signedInContext('programme_manager', printable);
  try {
    const page = await ctx.newPage();
    const id = await evaluationProgrammeId(page);
    const { response } = await load(page, url(`/programmes/${id}/evaluation`));
    assert.equal(response.status(), 200);
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => document.fonts.ready);
    assertNoProblems(await printProblems(page, printable.height), t);
    const pdfPath = path.join(SCREENSHOT_DIR, 'evaluation--pat-report.pdf');
    const pdf = await page.pdf({
      path: pdfPath,
      format: 'A4',
      printBackground: true,
      margin: { top: `${PRINT_MARGIN_MM}mm`, bottom: `${PRINT_MARGIN_MM}mm`, left: `${PRINT_MARGIN_MM}mm`, right: `${PRINT_MARGIN_MM}mm` },
    });
    const text = pdf.toString('latin1');
    assert.ok(text.startsWith('%PDF-'), 'a PDF file');
    const pages = (text.match(/\/Type\s*\/Page(?!s)\b/g) || []).length;
    t.diagnostic(`the report printed to ${pages} A4 page(s): ${pdfPath}`);
    assert.ok(pages >= 1, `the PDF has at least one page (found ${pages})`);
    // The controlled (shared) version an evaluator can preview prints the same way.
    await page.emulateMedia({ media: 'screen' });
    await load(page, url(`/programmes/${id}/evaluation?view=controlled`));
    await page.emulateMedia({ media: 'print' });
    assertNoProblems(await printProblems(page, printable.height), t);
  } finally {
    await ctx.close();
  }
});

test('evaluation: a date range with no data gives a plain message and no chart; an impossible date names the field', { skip: NO_ACCOUNTS, timeout: 3 * 60_000 }, async (t) => {
  const ctx = await signedInContext('programme_manager');
  try {
    const page = await ctx.newPage();
    const id = await evaluationProgrammeId(page);
    const empty = await load(page, url(`/programmes/${id}/evaluation?from=2001-01-01&to=2001-12-31`));
    assert.equal(empty.response.status(), 200, 'a range with no data is not an error');
    assertNoProblems(await checkPage(page, { label: 'report with no data', response: empty.response, errors: empty.errors, screenshot: 'evaluation--pat-report-no-data' }), t);
    const main = (await page.textContent('main')).replace(/\s+/g, ' ');
    assert.match(main, /\b(no|nobody|none|not enough)\b/i, 'a plain message says there is nothing in the range');
    const charts = await page.locator('main svg:not([aria-hidden="true"])').count();
    assert.equal(charts, 0, 'no (empty) chart is drawn for a range with no data');
    assert.doesNotMatch(main, /\bNaN\b|undefined|\binf\b/i);

    const bad = await load(page, url(`/programmes/${id}/evaluation?from=2026-13-01`));
    const status = bad.response.status();
    assert.ok(status === 200 || status === 400 || status === 422, `an impossible date gives 200, 400 or 422, not ${status}`);
    assertNoProblems(await checkPage(page, { label: 'report with an impossible date', response: bad.response, errors: bad.errors, expectStatus: status, screenshot: 'evaluation--pat-report-bad-date' }), t);
    const message = (await page.textContent('main')).replace(/\s+/g, ' ');
    assert.match(message, /\bfrom\b|first day/i, 'the message names the field (by its name or its label)');
    assert.match(message, /2026-13-01/, 'the message quotes the value');
    // NHS.UK error pattern: the summary links to the field, which is marked as in error.
    assert.equal(await page.locator('.nhsuk-error-summary a[href="#from"]').count(), 1, 'the error summary links to the "from" field');
    assert.equal(await page.locator('#from[aria-describedby~="from-error"]').count(), 1, 'the field points to its error message');
  } finally {
    await ctx.close();
  }
});
