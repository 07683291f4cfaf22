// Loads shaka-player in node, for its DASH parser alone (tests/shaka-diff, tests/bench/mpd-bench.mjs,
// tests/content/make-aes128.mjs).
//
// - A shaka-player build (shaka-player.compiled.debug.js, 5.2.12, by default) is evaluated in a
//   `vm` context that only holds the few browser globals shaka touches at load time (navigator,
//   window/self) plus timers, URL and TextDecoder/TextEncoder. Nothing leaks into the caller's
//   globals.
// - A networking scheme for `file:` serves files from disk and honours `Range: bytes=a-b`
//   (SegmentBase needs it to fetch the sidx). Other schemes (http/https) are refused, so
//   manifests whose SegmentBase media is remote fail loudly instead of touching the network.
// - manifestPlayerInterface is the smallest player interface DashParser runs with.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** shaka-player's debug build, the one the differential test parses with. */
export const SHAKA_DEBUG_JS = path.join(REPO_DIR, 'node_modules/shaka-player/dist/shaka-player.compiled.debug.js');

/**
 * Loads a shaka-player build (debug or release) into a fresh vm context with the few browser
 * globals its parser needs, shaka's language polyfills, a file: scheme that reads from disk and
 * honours Range, and http(s) refused (no network here).
 * Returns {shaka, ctx}.
 */
export function loadShakaBuild(jsPath) {
  const ctx = vm.createContext({
    console: quietConsole(),
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    queueMicrotask,
    URL,
    URLSearchParams,
    TextDecoder,
    TextEncoder,
    AbortController,
    atob,
    btoa,
    crypto: globalThis.crypto,
    navigator: {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' + 'Chrome/120.0.0.0 Safari/537.36',
      vendor: 'Google Inc.',
      platform: 'Linux x86_64',
      maxTouchPoints: 0,
      language: 'en',
      languages: ['en'],
      onLine: true,
    },
  });
  vm.runInContext('var window = globalThis; var self = globalThis; var global = globalThis;', ctx);
  // Parsers may probe MSE support; say yes to everything so nothing gets filtered.
  vm.runInContext(
    `
    var MediaSource = function MediaSource() {};
    MediaSource.isTypeSupported = function () { return true; };
    var ManagedMediaSource = undefined;
    var document = { createElement: function () { return { canPlayType: function () { return 'probably'; } }; },
                     addEventListener: function () {}, removeEventListener: function () {} };
    window.addEventListener = function () {}; window.removeEventListener = function () {};
  `,
    ctx,
  );
  const src = fs.readFileSync(jsPath, 'utf8');
  vm.runInContext(src, ctx, { filename: jsPath });
  const shaka = ctx.shaka;
  if (!shaka?.dash?.DashParser) throw new Error('shaka did not load');
  shaka.log?.setLevel?.(shaka.log.Level?.NONE ?? 0);
  // Language-level polyfills shaka relies on (Map#getOrInsert[Computed] is not in Node 20).
  // The browser-API polyfills of shaka.polyfill.installAll() are not needed by the parser.
  for (const name of ['Map', 'Symbol', 'TypedArray', 'RandomUUID']) {
    shaka.polyfill[name]?.install?.();
  }

  // Data handed to shaka must come from its own realm (it checks `instanceof ArrayBuffer`).
  const CtxArrayBuffer = vm.runInContext('ArrayBuffer', ctx);
  const CtxUint8Array = vm.runInContext('Uint8Array', ctx);
  const CtxObject = vm.runInContext('Object', ctx);
  const ctxObject = (o) => Object.assign(new CtxObject(), o);
  // file: scheme that reads from disk and honours Range.
  shaka.net.NetworkingEngine.registerScheme(
    'file',
    (uri, request) => {
      try {
        const file = fileURLToPath(uri); // query and fragment are ignored
        let buf = fs.readFileSync(file);
        let status = 200;
        const range = headerValue(request.headers, 'range');
        if (range) {
          const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
          if (!m) throw new Error(`bad Range header ${range}`);
          const start = Number(m[1]);
          const end = m[2] === '' ? buf.length - 1 : Math.min(Number(m[2]), buf.length - 1);
          buf = buf.subarray(start, end + 1);
          status = 206;
        }
        const ab = new CtxArrayBuffer(buf.length);
        new CtxUint8Array(ab).set(buf);
        return shaka.util.AbortableOperation.completed(
          ctxObject({
            uri,
            originalUri: uri,
            data: ab,
            status,
            headers: ctxObject({}),
            originalRequest: request,
            fromCache: false,
          }),
        );
      } catch (e) {
        return shaka.util.AbortableOperation.failed(
          new shaka.util.Error(
            shaka.util.Error.Severity.CRITICAL,
            shaka.util.Error.Category.NETWORK,
            shaka.util.Error.Code.HTTP_ERROR,
            uri,
            String(e?.message || e),
          ),
        );
      }
    },
    shaka.net.NetworkingEngine.PluginPriority.APPLICATION,
  );
  // No network access in tests: make http(s) fail fast with a clear message.
  for (const scheme of ['http', 'https']) {
    shaka.net.NetworkingEngine.registerScheme(
      scheme,
      (uri) =>
        shaka.util.AbortableOperation.failed(
          new shaka.util.Error(
            shaka.util.Error.Severity.CRITICAL,
            shaka.util.Error.Category.NETWORK,
            shaka.util.Error.Code.HTTP_ERROR,
            uri,
            'network access disabled: shaka runs on files here',
          ),
        ),
      shaka.net.NetworkingEngine.PluginPriority.APPLICATION,
    );
  }
  return { shaka, ctx };
}

function quietConsole() {
  const noop = () => {};
  return {
    log: noop,
    info: noop,
    debug: noop,
    warn: noop,
    error: noop,
    trace: noop,
    assert: noop,
    group: noop,
    groupEnd: noop,
    groupCollapsed: noop,
    time: noop,
    timeEnd: noop,
  };
}

function headerValue(headers, name) {
  if (!headers) return null;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return null;
}

/** Describes a shaka.util.Error (or anything thrown) in one line. */
export function describeShakaError(e, shaka) {
  if (e && typeof e.code === 'number') {
    let name = String(e.code);
    if (shaka) {
      for (const [k, v] of Object.entries(shaka.util.Error.Code))
        if (v === e.code) {
          name = `${k} (${e.code})`;
          break;
        }
    }
    const data = (e.data || []).map((d) => (d && typeof d === 'object' ? d.message || d.code || JSON.stringify(d) : String(d)));
    return `shaka error ${name}${data.length ? `: ${data.join(', ')}` : ''}`;
  }
  return String(e?.stack || e);
}

/**
 * The smallest shaka.extern.ManifestParser.PlayerInterface that lets DashParser run without a
 * player (shaka-player 5.2.12): errors are collected, everything else is a no-op.
 */
export function manifestPlayerInterface(networkingEngine, retryParameters, errors) {
  return {
    networkingEngine,
    filter: async () => {},
    makeTextStreamsForClosedCaptions: () => {},
    onTimelineRegionAdded: () => {},
    onEvent: () => {},
    onError: (e) => errors.push(e),
    isLowLatencyMode: () => false,
    updateDuration: () => {},
    newDrmInfo: () => {},
    onManifestUpdated: () => {},
    getBandwidthEstimate: () => 1e6,
    onMetadata: async () => {},
    disableStream: () => {},
    addFont: () => {},
    getStreamingRetryParameters: () => retryParameters,
    onSegmentReceived: () => {},
  };
}
