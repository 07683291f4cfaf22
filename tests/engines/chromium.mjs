// Chromium through playwright-core (CDP): offline mode, worker kills and quota all available.

import {chromium} from 'playwright-core';
import {CHROMIUM_OPTIONS} from '../e2e/harness.mjs';

/** Opens headless Chromium; with `quotaBytes`, every new page's origin gets that quota (CDP). */
export async function open({quotaBytes} = {}) {
  const browser = await chromium.launch(CHROMIUM_OPTIONS);
  return {
    name: 'chromium',
    can: {offline: true, stopWorkers: true, quota: true, multiPeriod: true},
    why: {},
    async newPage(url) {
      const context = await browser.newContext();
      const page = await context.newPage();
      if (process.env.E2E_VERBOSE) page.on('console', (m) => console.log('[chromium]', m.text()));
      const cdp = await context.newCDPSession(page);
      if (quotaBytes != null) {
        await cdp.send('Storage.overrideQuotaForOrigin', {origin: new URL(url).origin, quotaSize: quotaBytes});
      }
      await page.goto(url);
      return {
        cdp,
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        goto: async (u) => {
          await page.goto(u);
        },
        reload: async () => {
          await page.reload();
        },
        setOffline: (offline) => context.setOffline(offline),
        close: () => context.close(),
      };
    },
    async stopWorkers(page) {
      await page.cdp.send('ServiceWorker.enable');
      await page.cdp.send('ServiceWorker.stopAllWorkers');
    },
    close: () => browser.close(),
  };
}
