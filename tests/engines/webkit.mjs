// WebKitGTK (the engine of Safari) through selenium-webdriver over Debian's WebKitWebDriver,
// driving MiniBrowser. WebKitWebDriver holds one session at a time and every session is a new
// ephemeral (private) MiniBrowser, so each page gets its own driver process: that is what gives
// pages their own storage and workers.

import {spawn} from 'node:child_process';
import net from 'node:net';
import webdriver from 'selenium-webdriver';

const {Builder} = webdriver;

const DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Evaluations may run for minutes (a whole download); navigations wait for the load event. */
const TIMEOUTS = {script: 4 * 60_000, pageLoad: 2 * 60_000};

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

/** Starts Xvfb on a display number of its own choosing (-displayfd); MiniBrowser cannot run headless. */
async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr.on('data', (d) => { stderr += d; });
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

/** Starts WebKitWebDriver on a free port and waits until it answers /status. */
async function startDriver(env) {
  const port = await freePort();
  const child = spawn(DRIVER, [`--port=${port}`], {env, stdio: ['ignore', 'pipe', 'pipe']});
  const verbose = Boolean(process.env.E2E_VERBOSE);
  const echo = (d) => { if (verbose) for (const line of String(d).split('\n')) if (line) console.log('[webkit]', line); };
  child.stdout.on('data', echo);
  child.stderr.on('data', echo);
  const url = `http://127.0.0.1:${port}`;
  for (const start = Date.now(); ; await new Promise((r) => setTimeout(r, 50))) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}`);
    if (await fetch(`${url}/status`).then((r) => r.ok, () => false)) break;
    if (Date.now() - start > 10_000) throw new Error('WebKitWebDriver did not start in 10 s');
  }
  return {url, stop: () => stopProcess(child)};
}

/** MiniBrowser's options: automation mode, and console lines on stdout when verbose. */
function browserArgs() {
  const args = ['--automation'];
  if (process.env.E2E_VERBOSE) args.push('--enable-write-console-messages-to-stdout=true');
  return args;
}

/** The environment of our child processes: DISPLAY set to Xvfb's when we started one. */
function childEnv(display) {
  return display ? {...process.env, DISPLAY: display} : process.env;
}

/**
 * Opens WebKitGTK. `quotaBytes` cannot be honoured (can.quota is false) and is ignored;
 * `workerKills` changes nothing (can.stopWorkers is false).
 */
export async function open() {
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const env = childEnv(xvfb?.display);
  const pages = new Set();
  return {
    name: 'webkit',
    can: {offline: false, stopWorkers: false, quota: false},
    why: {
      offline: 'WebDriver has no network emulation and WebKitWebDriver adds none',
      stopWorkers: 'TODO',
      quota: 'TODO',
    },
    async newPage(url) {
      const driverProcess = await startDriver(env);
      let driver;
      try {
        driver = await new Builder()
          .usingServer(driverProcess.url)
          .disableEnvironmentOverrides()
          .withCapabilities({
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': {binary: MINIBROWSER, args: browserArgs()},
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
          return result.json == null ? undefined : JSON.parse(result.json);
        },
        goto: (u) => driver.get(u),
        reload: () => driver.navigate().refresh(),
        setOffline() {
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
    async stopWorkers() {
      throw new Error('webkit: stopWorkers is not supported (can.stopWorkers is false)');
    },
    async close() {
      await Promise.all([...pages].map((p) => p.close()));
      await xvfb?.stop();
    },
  };
}
