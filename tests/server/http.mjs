// Generic HTTP pieces of the loopback servers: listening with socket tracking, content types,
// safe path resolution, Range parsing, sending files, text and JSON, reading a body, CORS.
//
//   import {startHttpServer, sendFile} from './http.mjs';
//   const s = await startHttpServer(async (req, res) => { await sendFile(req, res, file); });
//   // s.url -> http://127.0.0.1:PORT ; await s.stop();
//
// Node built-ins only.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';

const CONTENT_TYPES = {
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.vtt': 'text/vtt; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
};

/** Content-Type for a file name, by extension. */
export function contentTypeFor(file) {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Starts an http.Server on host:port (0 = any free port) that tracks its sockets, so that
 * stop() closes the listener AND destroys keep-alive connections: afterwards nothing answers.
 */
export async function startHttpServer(handler, {port = 0, host = '127.0.0.1'} = {}) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => failRequest(res, err));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopping = null;
  const stop = () => {
    stopping ??= new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return stopping;
  };
  return {server, port: actualPort, url: `http://${urlHost}:${actualPort}`, stop};
}

/** Answers 500 (or just drops the connection when headers are already out). */
function failRequest(res, err) {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(500, {'Content-Type': 'text/plain; charset=utf-8'});
  res.end(`internal error: ${err?.message ?? err}\n`);
}

/** The request's path, without query, still percent-encoded and NOT normalised. */
export function rawPathOf(req) {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}

/**
 * Resolves a percent-encoded relative path (`a/b%20c.mp4`) inside `root`.
 * Returns the absolute file path, or null for anything that could escape `root`
 * (`..` segments, encoded slashes/backslashes, NUL, bad escapes).
 */
export function resolveInside(root, encodedRelPath) {
  const parts = [];
  for (const raw of encodedRelPath.split('/')) {
    let part;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (part === '' || part === '.') continue;
    if (part === '..' || /[/\\\0]/.test(part)) return null;
    parts.push(part);
  }
  const base = path.resolve(root);
  const full = path.resolve(base, ...parts);
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

/**
 * Parses a Range header against a resource of `size` bytes (RFC 9110 §14).
 * Returns null when the header is absent or malformed or asks for several ranges (the
 * caller then answers 200 with the whole body), {unsatisfiable: true} for 416, or
 * {start, end} (inclusive) for 206.
 */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // Suffix range: the last n bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return {unsatisfiable: true};
    return {start: Math.max(0, size - n), end: size - 1};
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return null; // invalid range-spec: ignore the header
  if (start >= size) return {unsatisfiable: true};
  return {start, end: Math.min(last, size - 1)};
}

/**
 * Sends a file with Content-Type, Content-Length, Accept-Ranges and (optionally) Range
 * support. `headers` are added to every answer (CORS, caching). Returns false when the
 * path is not a regular file (nothing sent).
 */
export async function sendFile(req, res, file, {headers = {}, ranges = true} = {}) {
  let stat;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  const size = stat.size;
  const base = {...headers, 'Content-Type': contentTypeFor(file)};
  if (ranges) base['Accept-Ranges'] = 'bytes';

  const range = ranges ? parseRange(req.headers.range, size) : null;
  if (range?.unsatisfiable) {
    res.writeHead(416, {...base, 'Content-Range': `bytes */${size}`, 'Content-Length': 0});
    res.end();
    return true;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const status = range ? 206 : 200;
  const out = {...base, 'Content-Length': end - start + 1};
  if (range) out['Content-Range'] = `bytes ${start}-${end}/${size}`;
  if (size === 0) out['Content-Length'] = 0;
  res.writeHead(status, out);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return true;
  }
  await pipeline(fs.createReadStream(file, {start, end}), res).catch(() => res.destroy());
  return true;
}

/** Writes a small text answer. */
export function sendText(res, status, text, headers = {}) {
  res.writeHead(status, {...headers, 'Content-Type': 'text/plain; charset=utf-8'});
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes a JSON answer with its length. */
export function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Reads a request body as UTF-8 text (bounded). */
export async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let total = 0;
  for await (const chunk of req) {
    total += chunk.length;
    if (total > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** CORS headers of every answer of a cross-origin server (the media server, the emulators). */
export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
};

/** Answers a CORS preflight: 204, every method the servers use, the asked-for headers. */
export function sendPreflight(req, res) {
  res.writeHead(204, {
    ...CORS,
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
    'Access-Control-Max-Age': '600',
    'Content-Length': 0,
  });
  res.end();
}
