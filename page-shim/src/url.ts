// URL helpers. Plain string handling where URLs may be relative; `URL` where they are absolute.

/**
 * Appends a query (`'a=1'`, `'a=1&b=2'`; a leading `?` or `&` is ignored) to a URL, before its
 * `#fragment`, with `?` or `&` as needed. Relative URLs work; nothing is re-encoded.
 *
 * appendQuery('a.mpd', 'x=1')        → 'a.mpd?x=1'
 * appendQuery('a.mpd?k=v#t=5', 'x=1') → 'a.mpd?k=v&x=1#t=5'
 */
export function appendQuery(url: string, query: string): string {
  const q = query.replace(/^[?&]+/, '');
  if (q === '') return url;
  const hashAt = url.indexOf('#');
  const base = hashAt < 0 ? url : url.slice(0, hashAt);
  const hash = hashAt < 0 ? '' : url.slice(hashAt);
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return base + sep + q + hash;
}

/** The URL relative URLs of the page resolve against, when there is a page. */
export function pageBaseUrl(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** The page's own URL, when there is a page. */
export function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

/** Resolves `url` against `base`; throws a TypeError when the result is not a valid URL. */
export function resolveUrl(url: string, base: string | undefined): string {
  return new URL(url, base).href;
}

/** The directory of an absolute URL, ending in `/` (the default service worker scope). */
export function directoryOf(url: string): string {
  return new URL('./', url).href;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string, as 8 hex digits. */
export function hash32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * A stable entry id for a plain DASH URL: the last two path segments (without extension) plus a
 * hash of the URL without its fragment, e.g. `video_manifest-1a2b3c4d`. Pass an explicit
 * `entryId` when the URL carries per-session tokens in its query.
 */
export function deriveEntryId(absoluteUrl: string): string {
  const u = new URL(absoluteUrl);
  u.hash = '';
  const slug =
    u.pathname
      .replace(/\.[A-Za-z0-9]+$/, '')
      .split('/')
      .filter((part) => part !== '')
      .slice(-2)
      .join('_')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .slice(-48) || 'stream';
  return `${slug}-${hash32(u.href)}`;
}
