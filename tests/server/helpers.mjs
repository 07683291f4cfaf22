// Helpers of the loopback-server tests (tests/server/*.test.mjs): temporary trees with known
// bytes, the real generated content, raw HTTP requests and connection checks, JSON posts, and
// the request the Kaltura OVP provider sends.

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONTENT_DIR = process.env.CONTENT_DIR || path.join(REPO, 'tests', '.content');

/** 100 known bytes 0..99, a nested MPD, and a "secret" next to (outside) the content dir. */
export function makeTinyTree() {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'media-server-'));
  const content = path.join(top, 'content');
  fs.mkdirSync(path.join(content, 'sub'), {recursive: true});
  fs.writeFileSync(path.join(content, 'bytes.bin'), Buffer.from([...Array(100).keys()]));
  fs.writeFileSync(path.join(content, 'empty.m4s'), Buffer.alloc(0));
  fs.writeFileSync(path.join(content, 'sub', 'x.mpd'), '<MPD type="static"/>');
  fs.writeFileSync(path.join(top, 'secret.txt'), 'secret');
  return {top, content};
}

/** Ensures the real ffmpeg content exists (fast no-op when it does). */
export function ensureRealContent() {
  const script = path.join(REPO, 'tests', 'content', 'make-content.sh');
  execFileSync('bash', [script], {env: {...process.env, CONTENT_DIR}, stdio: 'pipe'});
}

/** A raw HTTP request: the path is sent exactly as given (no URL normalisation). */
export function rawRequest(baseUrl, rawPath, {method = 'GET', headers = {}, agent = false} = {}) {
  const {hostname, port} = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({hostname, port, path: rawPath, method, headers, agent}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks)}));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true when a TCP connection to the port is refused. */
export function connectionRefused(port) {
  return new Promise((resolve) => {
    const socket = net.connect({port, host: '127.0.0.1'});
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Opens a connection and sends only part of a request; `closed` resolves when the server drops it. */
export async function halfSentRequest(port) {
  const socket = net.connect({port, host: '127.0.0.1'});
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('GET /content/bytes.bin HTTP/1.1\r\nHost: x\r\n');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  return {closed};
}

export async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  });
  return {res, json: await res.json()};
}

/** The request the Kaltura OVP provider sends for getMediaConfig({entryId}) without a ks. */
export function providerRequest(entryId) {
  const ref = '{2:result:objects:0:id}';
  return {
    apiVersion: '3.3.0',
    format: 1,
    ks: '',
    clientTag: 'html5:v3.17.95',
    partnerId: 1234,
    1: {service: 'session', action: 'startWidgetSession', widgetId: '_1234'},
    2: {service: 'baseEntry', action: 'list', ks: '{1:result:ks}', filter: {redirectFromEntryId: entryId}, responseProfile: {type: 1, fields: 'id,name'}},
    3: {
      service: 'baseEntry',
      action: 'getPlaybackContext',
      ks: '{1:result:ks}',
      entryId: ref,
      contextDataParams: {objectType: 'KalturaContextDataParams', flavorTags: 'all'},
    },
    4: {
      service: 'metadata_metadata',
      action: 'list',
      ks: '{1:result:ks}',
      filter: {objectType: 'KalturaMetadataFilter', objectIdEqual: ref, metadataObjectTypeEqual: '1'},
    },
  };
}
