// Dumps and restores whole IndexedDB databases (format: tests/fixtures/idb/README.md), page side:
// the fixture generator (tests/fixtures/idb/make-fixture.mjs) dumps what an old release's worker
// stored, and the upgrade suite (tests/engines/upgrade.test.mjs) restores it, before any worker is
// registered, in a fresh page of upgrade.html. Plain script, so that every engine runs it unchanged.
//
//   await window.idbFixture.dump('offline-manager')            -> the dump (a JSON-able object)
//   await window.idbFixture.restore(dumpOrUrl, {origins, version, extraStores, asArrayBuffers})
//   await window.idbFixture.digest('offline-manager')          -> {version, stores: {name: {keyPath, ..., records: {key: {field: sha-256}}}}}
(() => {
  const FORMAT = 'offline-manager-idb-dump/1';
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));
  const toBase64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const fromBase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const copy = (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

  async function exists(name) {
    if (typeof indexedDB.databases !== 'function') return true; // cannot tell: let open() find out
    return (await indexedDB.databases()).some((d) => d.name === name);
  }

  /** Opens `name` at its current version; refuses to create it (open() would make an empty one). */
  async function openExisting(name) {
    if (!(await exists(name))) throw new Error(`no ${name} database in this origin`);
    const open = indexedDB.open(name);
    open.onupgradeneeded = () => {
      open.transaction.abort();
    };
    return request(open);
  }

  /**
   * A value as JSON: plain JSON values as they are, everything else tagged with `$type`:
   * Blob {$type, type, size, sha256}, ArrayBuffer and typed arrays {$type, sha256} (their bytes
   * go to `blobs`, base64 by sha-256), Date {$type, value}, undefined, non-finite numbers.
   * A plain object that has its own `$type` key is wrapped as {$type: 'Object', value}.
   */
  async function encode(v, blobs) {
    if (v === undefined) return {$type: 'undefined'};
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : {$type: 'Number', value: Object.is(v, -0) ? '-0' : String(v)};
    if (typeof v === 'bigint') return {$type: 'BigInt', value: String(v)};
    if (Array.isArray(v)) return Promise.all(v.map((x) => encode(x, blobs)));
    if (v instanceof Date) return {$type: 'Date', value: v.getTime()};
    if (typeof Blob !== 'undefined' && v instanceof Blob) {
      const bytes = new Uint8Array(await v.arrayBuffer());
      const sha = await sha256(bytes);
      blobs[sha] = toBase64(bytes);
      return {
        $type: typeof File !== 'undefined' && v instanceof File ? 'File' : 'Blob',
        type: v.type,
        size: v.size,
        sha256: sha,
        ...(v.name ? {name: v.name} : {}),
      };
    }
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const sha = await sha256(bytes);
      blobs[sha] = toBase64(bytes);
      return {$type: v instanceof ArrayBuffer ? 'ArrayBuffer' : v.constructor.name, size: bytes.length, sha256: sha};
    }
    if (typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = await encode(x, blobs);
      return Object.hasOwn(v, '$type') ? {$type: 'Object', value: out} : out;
    }
    throw new Error(`cannot dump a ${typeof v}`);
  }

  /** The inverse of encode(); `str` maps every string (origin rewriting), `asArrayBuffers` turns Blobs into ArrayBuffers. */
  function decode(v, blobs, str, asArrayBuffers) {
    if (typeof v === 'string') return str(v);
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => decode(x, blobs, str, asArrayBuffers));
    const bytesOf = () => {
      const b64 = blobs[v.sha256];
      if (b64 === undefined) throw new Error(`the dump has no bytes for ${v.sha256}`);
      return fromBase64(b64);
    };
    const decodeObject = (o) => {
      const out = {};
      for (const [k, x] of Object.entries(o)) {
        const value = decode(x, blobs, str, asArrayBuffers);
        // A segment record's Blob becomes its ArrayBuffer form (field `bytes`), as the worker
        // itself stores segments where IndexedDB refuses Blobs (WebKit private sessions).
        if (asArrayBuffers && k === 'blob' && x && (x.$type === 'Blob' || x.$type === 'File')) out.bytes = value;
        else out[k] = value;
      }
      return out;
    };
    switch (v.$type) {
      case undefined:
        return decodeObject(v);
      case 'Object':
        return decodeObject(v.value);
      case 'undefined':
        return undefined;
      case 'Number':
        return Number(v.value);
      case 'BigInt':
        return BigInt(v.value);
      case 'Date':
        return new Date(v.value);
      case 'Blob':
      case 'File': {
        const bytes = bytesOf();
        if (asArrayBuffers) return copy(bytes);
        return v.$type === 'File' ? new File([bytes], v.name ?? '', {type: v.type}) : new Blob([bytes], {type: v.type});
      }
      case 'ArrayBuffer':
        return copy(bytesOf());
      default: {
        const buf = copy(bytesOf());
        if (v.$type === 'DataView') return new DataView(buf);
        const View = globalThis[v.$type];
        if (typeof View !== 'function' || !(View.prototype instanceof Object.getPrototypeOf(Uint8Array))) throw new Error(`unknown $type ${v.$type}`);
        return new View(buf);
      }
    }
  }

  /** Every store of `name` with its schema and every record with its key, as JSON (see encode()). */
  async function dump(name = 'offline-manager') {
    const db = await openExisting(name);
    try {
      const blobs = {};
      const stores = [];
      const names = [...db.objectStoreNames];
      for (const storeName of names) {
        const tx = db.transaction(storeName, 'readonly');
        const store = tx.objectStore(storeName);
        const indexes = [...store.indexNames].map((n) => {
          const i = store.index(n);
          return {name: i.name, keyPath: i.keyPath, unique: i.unique, multiEntry: i.multiEntry};
        });
        const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
        const records = [];
        for (const [i, key] of keys.entries()) records.push({key: await encode(key, blobs), value: await encode(values[i], blobs)});
        stores.push({name: storeName, keyPath: store.keyPath, autoIncrement: store.autoIncrement, indexes, records});
      }
      return {format: FORMAT, database: name, version: db.version, stores, blobs};
    } finally {
      db.close();
    }
  }

  /** A function replacing each `from` origin by its `to` in a string (not where a longer port follows). */
  function rewriter(origins = {}) {
    const pairs = Object.entries(origins).filter(([from, to]) => from && to && from !== to);
    if (pairs.length === 0) return (s) => s;
    const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(${pairs.map(([from]) => escapeRe(from)).join('|')})(?![0-9])`, 'g');
    const map = new Map(pairs);
    return (s) => s.replace(re, (m) => map.get(m));
  }

  /**
   * Creates the dump's database in this origin at `version` (default: the dump's) with the dump's
   * stores, indexes and records, all in the one upgrade transaction, and closes it. Refuses when
   * the database exists. `origins` maps origins of the run that made the dump to this test's
   * (every string of every key and value is rewritten); `extraStores` ([{name, keyPath?,
   * autoIncrement?}]) are created empty beside the dump's; `asArrayBuffers` stores Blobs as
   * ArrayBuffers (a segment record's `blob` as `bytes`) where IndexedDB refuses Blobs.
   * `dumpOrUrl` is the dump or a URL to fetch it from.
   */
  async function restore(dumpOrUrl, {origins = {}, version, extraStores = [], asArrayBuffers = false} = {}) {
    const d = typeof dumpOrUrl === 'string' ? await (await fetch(dumpOrUrl, {cache: 'no-store'})).json() : dumpOrUrl;
    if (d.format !== FORMAT) throw new Error(`not a ${FORMAT} dump: ${d.format}`);
    if (await exists(d.database)) throw new Error(`${d.database} already exists in this origin: restore into a fresh context`);
    const str = rewriter(origins);
    const v = version ?? d.version;
    const open = indexedDB.open(d.database, v);
    let count = 0;
    open.onupgradeneeded = () => {
      const db = open.result;
      const tx = open.transaction;
      for (const s of [...d.stores, ...extraStores.map((e) => ({indexes: [], records: [], ...e}))]) {
        const opts = {autoIncrement: Boolean(s.autoIncrement)};
        if (s.keyPath !== null && s.keyPath !== undefined) opts.keyPath = s.keyPath;
        const store = db.createObjectStore(s.name, opts);
        for (const i of s.indexes) store.createIndex(i.name, i.keyPath, {unique: i.unique, multiEntry: i.multiEntry});
        for (const r of s.records) {
          const value = decode(r.value, d.blobs, str, asArrayBuffers);
          if (opts.keyPath === undefined) store.put(value, decode(r.key, d.blobs, str, false));
          else store.put(value);
          count++;
        }
      }
      tx.onabort = () => console.error('idbFixture.restore: upgrade aborted', tx.error);
    };
    const db = await request(open);
    const restored = {database: d.database, version: db.version, stores: [...db.objectStoreNames], records: count};
    db.close();
    return restored;
  }

  /**
   * A small summary of `name` to compare before and after: its version, and per store the schema
   * and, for each record (by the JSON of its key), the sha-256 of each top-level field's dump.
   */
  async function digest(name = 'offline-manager') {
    const d = await dump(name);
    const stores = {};
    for (const s of d.stores) {
      const records = {};
      for (const r of s.records) {
        const value = normalise(r.value);
        const fields = value && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [['', value]];
        const hashed = {};
        for (const [k, x] of fields) hashed[k] = await sha256(new TextEncoder().encode(JSON.stringify(x)));
        records[JSON.stringify(r.key)] = hashed;
      }
      stores[s.name] = {keyPath: s.keyPath, autoIncrement: s.autoIncrement, indexes: s.indexes, records};
    }
    return {version: d.version, stores};
  }

  /** Blob, File and ArrayBuffer forms of the same bytes (and a record's `blob` / `bytes`) compare equal in digests. */
  function normalise(v) {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(normalise);
    if (['Blob', 'File', 'ArrayBuffer'].includes(v.$type)) return {bytes: v.sha256};
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k === 'bytes' ? 'blob' : k] = normalise(x);
    return out;
  }

  window.idbFixture = {FORMAT, dump, restore, digest, rewriter};
})();
