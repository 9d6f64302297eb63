/**
 * The run report page in a real browser (Debian's chromium, headless, driven by puppeteer-core):
 * `jobgraph run --report DIR` and `jobgraph report LOG` of a run with a retry, a forever job, an
 * ignored failure and a critical one that ends the run. The page loads without a console error
 * and without fetching anything; the timeline has one bar per job that ran; clicking a job (in the
 * timeline, the graph, the table) shows its details. Screenshots: test-artifacts/report*.png.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobgraph, root, tempDir } from './binary.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(root, 'test-artifacts');

/** Installs Debian's chromium if it is missing (as the bed installs openssh-server); bounded. */
async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  const run = promisify(execFile);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write('report-browser: installing chromium with apt-get\n');
  await run('apt-get', ['update'], { env, timeout: 300_000 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, timeout: 600_000 });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium succeeded but ${CHROMIUM} is missing`);
}

/**
 * `a` first; `b` fails once then passes (retries: 1); `c` fails but is not critical; `d` runs
 * forever beside them; `e` needs a, b and c; `z` (critical) fails after e and ends the run;
 * `after` needs z and never runs.
 */
function scenarioText(dir: string): string {
  return `nodes:
  - id: local
    localnode: true
jobs:
  - id: a
    node: local
    label: prepare
    commands:
      - type: Run
        command: echo preparing; sleep 0.3
  - id: b
    node: local
    label: flaky step
    required: a
    retries: 1
    commands:
      - type: Run
        command: test -e ${join(dir, 'flag')} || { touch ${join(dir, 'flag')}; echo not yet >&2; exit 1; }
  - id: c
    node: local
    label: optional check
    required: a
    critical: false
    commands:
      - type: Run
        command: echo 'checking <b>markup</b> stays text'; exit 2
  - id: d
    node: local
    label: capture
    forever: true
    commands:
      - type: Run
        command: while true; do echo tick; sleep 0.2; done
  - id: e
    node: local
    label: measure
    required: [b, c]
    commands:
      - type: Run
        command: echo measuring; sleep 0.4; echo result 42
  - id: z
    node: local
    label: collect
    required: e
    commands:
      - type: Run
        command: echo collecting; exit 5
  - id: after
    node: local
    required: z
    commands:
      - type: Run
        command: echo never
`;
}

let browser: Browser;
let dir = '';

beforeAll(async () => {
  await ensureChromium();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  dir = await tempDir('jobgraph-report-browser-');
  await writeFile(join(dir, 'scenario.yaml'), scenarioText(dir));
  const run = await jobgraph([
    'run',
    join(dir, 'scenario.yaml'),
    '--report',
    join(dir, 'out'),
    '--log',
    join(dir, 'run.jsonl'),
    '--log-output',
  ]);
  expect(run.code, run.stderr).toBe(1);
  const report = await jobgraph(['report', join(dir, 'run.jsonl')]);
  expect(report.code, report.stderr).toBe(0);
  expect(report.stdout).toBe(`${join(dir, 'run.html')}\n`);
  await mkdir(ARTIFACTS, { recursive: true });
}, 900_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens `file`; every request other than the page itself, every console error and page error is noted. */
async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1500, height: 1200 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('request', (request) => {
    if (request.url() !== `file://${file}`) requests.push(request.url());
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** The text of the details panel shown, or undefined when none is. */
function shownDetails(page: Page): Promise<{ id: string | null; text: string } | undefined> {
  return page.$$eval('article.job-details', (articles) => {
    const shown = articles.filter((article) => !article.hasAttribute('hidden'));
    const [article] = shown;
    if (shown.length !== 1 || article === undefined) return undefined;
    return { id: article.getAttribute('data-details'), text: article.textContent ?? '' };
  });
}

describe('the report page in headless Chromium', () => {
  it('run --report DIR: loads clean and self-contained; one bar per job that ran; a click shows the details', async () => {
    const { page, errors, requests } = await open(join(dir, 'out', 'report.html'));
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const bars = await page.$$eval('svg.timeline g.job', (groups) =>
        groups.map((g) => ({ id: g.getAttribute('data-job'), classes: g.getAttribute('class') })),
      );
      // every job but `after` ran, once each
      expect(bars.map((bar) => bar.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'z']);
      const classes = Object.fromEntries(bars.map((bar) => [bar.id, bar.classes ?? '']));
      expect(classes.z).toContain('outcome-failed');
      expect(classes.z).toContain('ended-run');
      expect(classes.d).toContain('forever');
      expect(classes.d).toContain('outcome-cancelled');
      // b's retry: a tick across its bar
      expect(await page.$$eval('svg.timeline g.job[data-job="b"] line.retry', (lines) => lines.length)).toBe(
        1,
      );

      expect(await shownDetails(page)).toBeUndefined();
      await page.click('svg.timeline g.job[data-job="z"] rect.bar');
      const z = await shownDetails(page);
      expect(z?.id).toBe('z');
      expect(z?.text).toContain('z: collect');
      expect(z?.text).toContain('echo collecting; exit 5');
      expect(z?.text).toMatch(/exit code 5/);
      expect(z?.text).toContain('collecting'); // its last output line
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

      // the job graph's boxes and the table's rows show details too
      await page.click('#graph g.node#graph-job-0');
      expect((await shownDetails(page))?.id).toBe('a');
      await page.click('table.jobs tr[data-job="c"]');
      const c = await shownDetails(page);
      expect(c?.id).toBe('c');
      // output that looks like markup is shown as text
      expect(c?.text).toContain('checking <b>markup</b> stays text');
      expect(await page.$$eval('article[data-details="c"] b', (nodes) => nodes.length)).toBe(0);
      // at a laptop's width, the jobs table stays in its card (it ran under the details panel); and
      // narrower, with the panel below, nothing is wider than the window (the page scrolled sideways)
      await page.setViewport({ width: 1300, height: 900 });
      const right = (selector: string) =>
        page.$eval(selector, (element) => element.getBoundingClientRect().right);
      const edges = {
        card: await right('section#jobs'),
        panel: await page.$eval('aside#details', (element) => element.getBoundingClientRect().left),
        table: await right('section#jobs .scroll'),
      };
      expect(edges.table).toBeLessThanOrEqual(edges.card);
      expect(edges.card).toBeLessThanOrEqual(edges.panel);
      for (const width of [1100, 800]) {
        await page.setViewport({ width, height: 900 });
        expect(await page.$eval('html', (element) => element.scrollWidth)).toBeLessThanOrEqual(width);
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('jobgraph report LOG: the same page from the log alone', async () => {
    const { page, errors, requests } = await open(join(dir, 'run.html'));
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(await page.$$eval('svg.timeline g.job', (groups) => groups.length)).toBe(6);
      expect(await page.$eval('header', (header) => header.textContent)).toContain('Failed');
      // the keyboard: a bar takes the focus (tabindex), Enter shows its details
      await page.$eval('svg.timeline g.job[data-job="b"]', (bar) =>
        (bar as unknown as { focus(): void }).focus(),
      );
      await page.keyboard.press('Enter');
      const b = await shownDetails(page);
      expect(b?.id).toBe('b');
      expect(b?.text).toMatch(/Attempts[\s\S]*not yet|exit code 1/);
      await page.screenshot({ path: join(ARTIFACTS, 'report-from-log.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
