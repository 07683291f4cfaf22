// WebKitGTK (the engine of Safari) through selenium-webdriver over Debian's WebKitWebDriver,
// driving MiniBrowser. WebKitWebDriver holds one session at a time and every session is a new
// ephemeral (private) MiniBrowser, so each page gets its own driver process: that is what gives
// pages their own storage and workers. MiniBrowser has no headless mode: without a DISPLAY we
// start our own Xvfb. WebDriver sessions are always ephemeral; launchPersistent starts
// MiniBrowser without WebDriver on a profile folder, for pages that drive themselves.

import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import webdriver from 'selenium-webdriver';

const {Builder} = webdriver;

const DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Evaluations may run for minutes (a whole download); navigations wait for the load event. */
const TIMEOUTS = {script: 4 * 60_000, pageLoad: 2 * 60_000};

/**
 * WebKit terminates a service worker about 10 s (measured 9.8-9.9 s) after its last client went
 * away, even with a waitUntil pending and fetches in flight; stopWorkers waits this long.
 */
const CLIENTLESS_WORKER_LIFETIME_MS = 12_000;

/**
 * Runs `source` (a function's text) inside the page, on the argument when one was passed (so an
 * absent one stays undefined), and reports back through the WebDriver callback (the last
 * argument): JSON text on success (absent for undefined), the error's text on a throw.
 */
const EVALUATE = `const source = arguments[0];
const done = arguments[arguments.length - 1];
const args = arguments.length > 2 ? [arguments[1]] : [];
Promise.resolve()
  .then(() => (0, eval)('(' + source + ')')(...args))
  .then((value) => done({json: JSON.stringify(value)}), (e) => done({error: String(e)}));`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port free right now on loopback (the driver wants a number, not 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Kills `child` (if still running) and resolves once it has exited. */
function stopProcess(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  return exited;
}

/** With E2E_VERBOSE, a child's output is echoed, prefixed. */
function childOutput(child) {
  if (!process.env.E2E_VERBOSE) return;
  const echo = (d) => {
    for (const line of String(d).split('\n')) if (line) console.log('[webkit]', line);
  };
  child.stdout.on('data', echo);
  child.stderr.on('data', echo);
}

const CHILD_STDIO = ['ignore', process.env.E2E_VERBOSE ? 'pipe' : 'ignore', process.env.E2E_VERBOSE ? 'pipe' : 'ignore'];

/**
 * MiniBrowser writes console lines on its stdout when asked to; only when started directly: in
 * automation mode its views ignore that setting.
 */
const CONSOLE_ARGS = process.env.E2E_VERBOSE ? ['--enable-write-console-messages-to-stdout=true'] : [];

/** Starts Xvfb on a display number of its own choosing (-displayfd). */
async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr.on('data', (d) => {
    stderr += d;
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    xvfb.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr}`)));
  });
  return {display, stop: () => stopProcess(xvfb)};
}

/** The display to use: the caller's DISPLAY, else an Xvfb of our own (stop() ends it). */
async function openDisplay() {
  if (process.env.DISPLAY) return {env: process.env, stop: async () => {}};
  const xvfb = await startXvfb();
  return {env: {...process.env, DISPLAY: xvfb.display}, stop: xvfb.stop};
}

/** Starts WebKitWebDriver on a free port and waits until it answers /status. */
async function startDriver(env) {
  const port = await freePort();
  const child = spawn(DRIVER, [`--port=${port}`], {env, stdio: CHILD_STDIO});
  childOutput(child);
  const url = `http://127.0.0.1:${port}`;
  for (const start = Date.now(); ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/status`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() - start > 10_000) throw new Error('WebKitWebDriver did not answer in 10 s');
  }
  return {url, stop: () => stopProcess(child)};
}

/**
 * Opens WebKitGTK. `quotaBytes` cannot be honoured (can.quota is false) and is ignored;
 * `workerKills` needs nothing at launch here.
 */
export async function open() {
  const display = await openDisplay();
  const pages = new Set();
  return {
    name: 'webkit',
    can: {offline: false, stopWorkers: true, quota: false, multiPeriod: false},
    why: {
      multiPeriod:
        'this WebKitGTK (2.50, GStreamer MSE) does not play a stream across a DASH Period '
        + 'boundary, online either: measured with the two-Period template stream, shaka-player stops at '
        + '6.08 s and dash.js fails to push a buffer or leaves the page hanging',
      offline: 'WebDriver has no network emulation and WebKitWebDriver adds none; MiniBrowser has ' + 'no offline switch either',
      quota:
        'no per-origin quota can be set: MiniBrowser has no option for it, WebKitGTK 2.50 has '
        + 'no WebKitSettings property, feature flag or environment variable for it, and WebDriver '
        + 'has no storage command; an ephemeral session stored 3.2 GB in IndexedDB without a '
        + 'QuotaExceededError',
    },
    async newPage(url) {
      const driverProcess = await startDriver(display.env);
      let driver;
      try {
        driver = await new Builder()
          .usingServer(driverProcess.url)
          .disableEnvironmentOverrides()
          .withCapabilities({
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': {binary: MINIBROWSER, args: ['--automation']},
          })
          .build();
        await driver.manage().setTimeouts(TIMEOUTS);
        await driver.get(url);
      } catch (e) {
        await driver?.quit().catch(() => {});
        await driverProcess.stop();
        throw e;
      }
      const page = {
        driver,
        async evaluate(fn, arg) {
          const args = arg === undefined ? [fn.toString()] : [fn.toString(), arg];
          const result = await driver.executeAsyncScript(EVALUATE, ...args);
          if ('error' in result) throw new Error(result.error);
          // WebDriver turns the undefined of JSON.stringify(undefined) into null.
          return result.json == null ? undefined : JSON.parse(result.json);
        },
        goto: (u) => driver.get(u),
        reload: () => driver.navigate().refresh(),
        async setOffline() {
          throw new Error('webkit: setOffline is not supported (can.offline is false)');
        },
        async close() {
          if (!pages.delete(page)) return;
          await driver.quit().catch(() => {});
          await driverProcess.stop();
        },
      };
      pages.add(page);
      return page;
    },
    /**
     * WebDriver has no worker command, so this takes the page's worker's only client away: the
     * page goes to about:blank until WebKit has terminated the worker, then loads its URL again.
     * The page comes back as a fresh document (its script state is gone) about 12 s later.
     */
    async stopWorkers(page) {
      const url = await page.driver.getCurrentUrl();
      await page.goto('about:blank');
      await sleep(CLIENTLESS_WORKER_LIFETIME_MS);
      await page.goto(url);
    },
    async close() {
      await Promise.all([...pages].map((p) => p.close()));
      await display.stop();
    },
  };
}

/**
 * Starts MiniBrowser without WebDriver on `url`, keeping its website data (IndexedDB, service
 * worker registrations, Cache Storage) in `profileDir`: MiniBrowser puts them under the XDG data
 * and cache folders, and a restart on the same folder finds them again. The page must drive
 * itself (e.g. post its results to a loopback server). stop() kills the browser, as a crash
 * would, and resolves once it and its network and web processes have exited.
 */
export async function launchPersistent({profileDir, url}) {
  const display = await openDisplay();
  const dirs = {XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_CONFIG_HOME: 'config'};
  const env = {...display.env};
  for (const [name, dir] of Object.entries(dirs)) {
    env[name] = path.join(profileDir, dir);
    fs.mkdirSync(env[name], {recursive: true});
  }
  // Its own process group, which its WebKit processes join: stop() can wait for all of them.
  const browser = spawn(MINIBROWSER, [...CONSOLE_ARGS, url], {env, stdio: CHILD_STDIO, detached: true});
  childOutput(browser);
  const groupAlive = () => {
    try {
      process.kill(-browser.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    async stop() {
      await stopProcess(browser, 'SIGKILL');
      for (const start = Date.now(); groupAlive() && Date.now() - start < 10_000; ) await sleep(50);
      await display.stop();
    },
  };
}
