// Shared parts of the browser tests: a real server with the built web app, a recording proxy
// that every browser request goes through (so the tests see exactly what the browser sends,
// to any host), and Debian's Chromium driven by playwright-core.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, Server } from '../lib/server.mjs';

export const CHROMIUM = process.env.SATLOAD_CHROMIUM || '/usr/bin/chromium';
// The web app `make build` puts beside the binary (web/build.sh OUT), unless named.
export const WEB_ROOT = process.env.SATLOAD_WEB_ROOT || path.join(path.dirname(BIN), 'web');
// Screenshots of each page go here (under the build directory).
export const SCREENSHOT_DIR = path.join(process.env.SATLOAD_BUILD_DIR || path.dirname(BIN), 'screenshots');

// The flags that work on these machines (.library machine notes): without the
// background-networking ones Chromium floods the closed network with refused connections.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

// A server serving the built web app. A missing app is a failure, never a skip.
export async function startServer(args = []) {
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    throw new Error(`the web app is not built in ${WEB_ROOT} (web/build.sh ${WEB_ROOT})`);
  }
  const server = new Server({ args: ['--web-root', WEB_ROOT, ...args] });
  await server.start();
  return server;
}

// An HTTP forward proxy that records every request the browser makes (method, absolute URL,
// headers, body) and forwards only those for `origin`; anything else is answered 502 and
// stays in the record, so a test can prove no other host was contacted.
export async function recordingProxy(origin) {
  const target = new URL(origin);
  const seen = [];
  const proxy = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, headers: { ...req.headers }, body: [] };
    seen.push(entry);
    let url;
    try {
      url = new URL(req.url);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (url.host !== target.host || url.protocol !== 'http:') {
      req.resume();
      entry.status = 502;
      entry.done = true;
      res.writeHead(502).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: url.pathname + url.search, headers },
      (up) => {
        entry.status = up.statusCode;
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      entry.error = e.code ?? e.message;
      res.destroy();
    });
    res.on('finish', () => (entry.done = true));
    req.on('data', (d) => entry.body.push(d));
    // A request the browser gives up on (a paused upload) is cut upstream too, as it would
    // be without a proxy.
    req.on('close', () => {
      if (!req.complete) upstream.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  // HTTPS through the proxy: recorded and refused.
  proxy.on('connect', (req, socket) => {
    seen.push({ method: 'CONNECT', url: req.url, headers: { ...req.headers }, body: [], status: 502, done: true });
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        proxy.closeAllConnections();
        proxy.close(resolve);
      }),
  };
}

// The last `n` requests the proxy saw, one line each (method, path, status or error, or
// "no answer yet"): what a failed wait reports, so a failure in CI explains itself.
export function recentRequests(proxy, n = 12) {
  return proxy.seen
    .slice(-n)
    .map((e) => {
      let where = e.url;
      if (e.method !== 'CONNECT') {
        try {
          where = new URL(e.url).pathname;
        } catch {
          // not an absolute URL: shown as sent
        }
      }
      const outcome = e.error ? `failed (${e.error})` : e.status ? `${e.status}${e.done ? '' : ', body not finished'}` : 'no answer yet';
      return `  ${e.method} ${where}: ${outcome}`;
    })
    .join('\n');
}

// Waits until `selector` shows, failing early when the page shows its error message instead,
// and failing on timeout with what the page said (#status, #error) and the proxy's last
// requests.
export async function waitForShown(p, selector, { timeout, proxy, what }) {
  try {
    await p.waitForSelector(`${selector}, #error:not([hidden])`, { timeout });
  } catch (e) {
    const status = await p.textContent('#status').catch(() => null);
    throw new Error(
      `${what}: ${selector} did not show within ${timeout} ms (${e.message.split('\n')[0]}); ` +
        `the page's status: ${JSON.stringify(status)}; the last requests:\n${proxy ? recentRequests(proxy) : '  (no proxy)'}`,
    );
  }
  if (await p.isVisible('#error')) {
    throw new Error(`${what}: the page showed an error: ${JSON.stringify(await p.textContent('#error'))}; the last requests:\n${proxy ? recentRequests(proxy) : '  (no proxy)'}`);
  }
}

// Chromium through `proxy` (loopback included: Chromium bypasses proxies for loopback unless
// told not to). A browser that cannot start throws: the test fails, never skips.
// `marker`: an extra (ignored) flag naming this browser's process, for processMemory().
export async function launchBrowser(proxy = null, { marker } = {}) {
  const proxyArgs = proxy ? [`--proxy-server=${proxy.url}`, '--proxy-bypass-list=<-loopback>'] : [];
  const markerArgs = marker ? [`--satload-test-marker=${marker}`] : [];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...proxyArgs, ...markerArgs] });
}

// Resident memory (bytes) of the browser launched with `marker` and of every process under it
// (renderers, GPU, network service...), read from /proc: what the machine really spends, which
// a Blob or a JavaScript heap figure could hide.
export function processMemory(marker) {
  const procs = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      const rss = kib('VmRSS');
      // RSS = anonymous (heaps: what the page's work costs) + file-backed (Chromium's own code
      // and data files, shared with its other processes) + shared memory (IPC buffers).
      const anon = kib('RssAnon');
      const file = kib('RssFile');
      // Chromium rewrites its children's titles, so arguments may be joined by spaces.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      procs.set(Number(pid), { ppid, rss, anon, file, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  const root = [...procs.entries()].find(([, p]) => p.cmdline.includes(`--satload-test-marker=${marker} `));
  if (!root) throw new Error(`no browser process with marker ${marker}`);
  const mine = new Set([root[0]]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  const byType = {};
  const largest = {}; // per process type, the process with the largest RSS
  let total = 0;
  for (const pid of mine) {
    const p = procs.get(pid);
    const type = /--type=([a-z-]+)/.exec(p.cmdline)?.[1] ?? 'browser';
    if (p.rss > (byType[type] ?? 0)) largest[type] = p;
    byType[type] = Math.max(byType[type] ?? 0, p.rss);
    total += p.rss;
  }
  return { total, browser: procs.get(root[0]).rss, byType, largest };
}

// Samples processMemory every 100 ms until stopped; returns the peaks.
export function memoryPeaks(marker) {
  const peak = { total: 0, browser: 0, renderer: 0, rendererAnon: 0, rendererFile: 0 };
  const timer = setInterval(() => {
    const m = processMemory(marker);
    peak.total = Math.max(peak.total, m.total);
    peak.browser = Math.max(peak.browser, m.browser);
    if ((m.byType.renderer ?? 0) > peak.renderer) {
      peak.renderer = m.byType.renderer;
      // The split of the renderer's RSS at its peak.
      peak.rendererAnon = m.largest.renderer.anon;
      peak.rendererFile = m.largest.renderer.file;
    }
  }, 100);
  return { stop: () => (clearInterval(timer), peak) };
}

// A fresh context (its own profile state) recording every request Playwright sees from the
// page and its service worker, and every Content-Security-Policy violation and page error.
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, ...options });
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push({ url: r.url(), headers: r.headers(), fromWorker: Boolean(r.serviceWorker()) }));
  context.on('page', (page) => watchPage(page, problems));
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  return { context, requests, problems };
}

function watchPage(page, problems) {
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
