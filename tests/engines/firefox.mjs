// Firefox (Debian's firefox-esr, headless) through puppeteer-core over WebDriver BiDi. Offline
// mode and worker kills run as privileged script in the browser window (BiDi `moz:scope: chrome`,
// allowed by --remote-allow-system-access): BiDi's own offline emulation fails the requests a
// service worker would answer and lets the worker's own fetches through, and Marionette cannot
// open a session next to the BiDi one. The quota is a launch pref, so it holds for the whole
// browser.

import puppeteer from 'puppeteer-core';

const MiB = 1024 * 1024;

/**
 * The temporary-storage limit (KiB) that gives every origin `quotaBytes`: Firefox gives an
 * origin group min(limit, max(limit / 5, 10 MiB)) (measured with 153 ESR). Rounded down to KiB.
 */
function fixedLimitKiB(quotaBytes) {
  const kib = Math.floor(quotaBytes / 1024);
  return quotaBytes <= 10 * MiB ? kib : 5 * kib;
}

/** Launch prefs: media plays without a gesture; with E2E_VERBOSE, page and worker console lines go to stdout. */
function prefs(quotaBytes) {
  return {
    'media.autoplay.default': 0,
    ...(process.env.E2E_VERBOSE && {'devtools.console.stdout.content': true}),
    ...(quotaBytes != null && {'dom.quotaManager.temporaryStorage.fixedLimit': fixedLimitKiB(quotaBytes)}),
  };
}

/**
 * Chrome script: takes the user context `userContext` (a BiDi id) off the network or back on.
 * Its HTTP requests are cancelled just before they would connect, so the page's and its service
 * worker's network requests fail while those a worker answers still work; navigator.onLine
 * (pages and workers) follows the browser-wide offline flag, set while any context is offline.
 */
function chromeSetOffline(userContext, offline) {
  const {UserContextManager} = ChromeUtils.importESModule('chrome://remote/content/shared/UserContextManager.sys.mjs');
  const id = UserContextManager.getInternalIdById(userContext);
  const state = (globalThis.e2eOffline ??= {
    ids: new Set(),
    observer: {
      observe(subject) {
        const channel = subject.QueryInterface(Ci.nsIHttpChannel);
        if (state.ids.has(channel.loadInfo.originAttributes.userContextId)) channel.cancel(Cr.NS_ERROR_OFFLINE);
      },
    },
  });
  const before = state.ids.size;
  if (offline) state.ids.add(id);
  else state.ids.delete(id);
  if (!before && state.ids.size) Services.obs.addObserver(state.observer, 'http-on-before-connect');
  if (before && !state.ids.size) Services.obs.removeObserver(state.observer, 'http-on-before-connect');
  Services.io.offline = state.ids.size > 0;
}

/**
 * Chrome script: terminates every running service worker of the user context `userContext`,
 * with its pending events and fetches (the next event starts a fresh worker), and resolves once
 * their threads have ended, that is once their script has stopped.
 */
async function chromeStopWorkers(userContext) {
  const {UserContextManager} = ChromeUtils.importESModule('chrome://remote/content/shared/UserContextManager.sys.mjs');
  const id = UserContextManager.getInternalIdById(userContext);
  const workerThreads = async () =>
    (await ChromeUtils.requestProcInfo()).children
      .flatMap((p) => p.threads)
      .filter((t) => t.name === 'DOM Worker')
      .map((t) => t.tid);
  const before = await workerThreads();
  const swm = Cc['@mozilla.org/serviceworkers/manager;1'].getService(Ci.nsIServiceWorkerManager);
  const registrations = swm.getAllRegistrations();
  let stopped = 0;
  for (let i = 0; i < registrations.length; i++) {
    const reg = registrations.queryElementAt(i, Ci.nsIServiceWorkerRegistrationInfo);
    if (reg.principal.originAttributes.userContextId !== id) continue;
    for (const worker of [reg.installingWorker, reg.waitingWorker, reg.activeWorker]) {
      // A running worker has a lifetime deadline; terminating it clears it.
      if (worker?.lifetimeDeadline > 0) {
        worker.terminateWorker();
        stopped += 1;
      }
    }
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = new Set(await workerThreads());
    if (before.filter((tid) => !now.has(tid)).length >= stopped) return;
    if (Date.now() > deadline) throw new Error(`${stopped} terminated service workers still run after 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Opens headless Firefox; with `quotaBytes`, every origin gets that quota (a launch pref). */
export async function open({quotaBytes} = {}) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: prefs(quotaBytes),
    dumpio: Boolean(process.env.E2E_VERBOSE),
  });

  /** Runs `fn(...args)` (string, number or boolean arguments) in the browser window, with chrome privileges. */
  async function inChrome(fn, ...args) {
    const {contexts} = await browser.connection.send('browsingContext.getTree', {'moz:scope': 'chrome'}).then((r) => r.result);
    const {result} = await browser.connection.send('script.callFunction', {
      functionDeclaration: fn.toString(),
      arguments: args.map((value) => ({type: typeof value, value})),
      target: {context: contexts[0].context},
      awaitPromise: true,
    });
    if (result.type === 'exception') throw new Error(`${fn.name}: ${result.exceptionDetails.text}`);
    return result.result.value;
  }

  return {
    name: 'firefox',
    can: {offline: true, stopWorkers: true, quota: true, multiPeriod: true},
    why: {},
    async newPage(url) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.goto(url);
      let offline = false;
      const setOffline = async (value) => {
        await inChrome(chromeSetOffline, context.id, value);
        offline = value;
      };
      return {
        userContext: context.id,
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        goto: async (u) => {
          await page.goto(u);
        },
        reload: async () => {
          await page.reload();
        },
        setOffline,
        // The offline flag is browser-wide: a closed context must not keep the browser offline.
        close: async () => {
          if (offline) await setOffline(false);
          await context.close();
        },
      };
    },
    async stopWorkers(page) {
      await inChrome(chromeStopWorkers, page.userContext);
    },
    close: () => browser.close(),
  };
}
