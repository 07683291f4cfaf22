// One interface over the three browser engines the end-to-end suite runs in, each a real browser
// from Debian's packages driven by an npm driver: Chromium (playwright-core over CDP), Firefox
// (puppeteer-core over WebDriver BiDi) and WebKitGTK (selenium-webdriver over WebKitWebDriver).
// The core suite (tests/engines/core.test.mjs) is written against this interface only.
//
// An engine module (`chromium.mjs`, `firefox.mjs`, `webkit.mjs`) exports
//   open(options?: {quotaBytes?: number, workerKills?: boolean}) -> Promise<Engine>
// where
//   Engine = {
//     name: 'chromium' | 'firefox' | 'webkit',
//     can: {
//       offline: boolean,       // page.setOffline really blocks the page's and the worker's fetches
//       stopWorkers: boolean,   // engine.stopWorkers works (a worker kill test can run)
//       quota: boolean,         // open({quotaBytes}) gives pages an origin quota of that size
//       multiPeriod: boolean,   // its media pipeline plays a stream across a DASH Period boundary
//     },
//     why: {offline?, stopWorkers?, quota?}: string,  // for each `can` that is false: why not
//     newPage(url) -> Promise<Page>,  // a new page in a fresh context: its own storage and workers
//     stopWorkers(page) -> Promise<void>, // stops every service worker of the page's context now
//     close() -> Promise<void>,
//   }
//   Page = {
//     evaluate(fn, arg?) -> Promise<any>, // runs fn(arg) in the page, awaits a returned promise;
//                                         // fn travels as source text, arg and result as JSON;
//                                         // a throw in the page rejects with its message
//     goto(url) -> Promise<void>,         // navigates and waits for the load event
//     reload() -> Promise<void>,          // reloads and waits for the load event
//     setOffline(offline) -> Promise<void>, // only where can.offline
//     close() -> Promise<void>,           // closes the page and its context
//   }

/** The engines, in the order the test command runs them. */
export const ENGINE_NAMES = Object.freeze(['chromium', 'firefox', 'webkit']);

/** Opens the engine `name` (one of ENGINE_NAMES). */
export async function openEngine(name, options = {}) {
  if (!ENGINE_NAMES.includes(name)) throw new Error(`unknown engine ${name}: one of ${ENGINE_NAMES.join(', ')}`);
  const mod = await import(`./${name}.mjs`);
  return mod.open(options);
}

/** The engine the suite runs in: the ENGINE variable, Chromium by default. */
export const ENGINE = process.env.ENGINE || 'chromium';
