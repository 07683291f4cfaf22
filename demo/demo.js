// The demo app: the OfflineManager API driving downloads of two sample entries, and the Kaltura
// Player playing stored entries from the service worker.
/* global KalturaPlayer */
'use strict';

const params = new URLSearchParams(location.search);
const MEDIA = params.get('media') || `${location.protocol}//${location.hostname}:8081`;
const PARTNER_ID = 1234;
const SAMPLES = [
  {id: '0_feature', name: 'Feature sample (3 min, 3 bitrates, 2 audio languages, subtitles)'},
  {id: '0_template', name: 'Template sample (SegmentTemplate $Number$)'},
  {id: '0_timeline', name: 'Timeline sample (SegmentTimeline)'},
  {id: '0_list', name: 'SegmentList sample (byte ranges)'},
  {id: '0_base', name: 'SegmentBase sample (sidx)'},
];
const $ = (s) => document.querySelector(s);
const rows = new Map();
const stored = new Map(); // entry id -> bytes stored, for the storage figure

/** Bytes the entries hold, and the origin's usage and quota where the browser tells them. */
async function showStorage() {
  $('#storage').textContent = bytes([...stored.values()].reduce((n, b) => n + b, 0));
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  $('#quota').textContent = estimate
    ? `${bytes(estimate.usage)} used of ${bytes(estimate.quota)} (the browser's figure)`
    : 'not reported by this browser';
}
let player = null;

const om = new KalturaPlayer.OfflineManager({provider: {partnerId: PARTNER_ID, env: {serviceUrl: `${MEDIA}/api_v3`, cdnUrl: MEDIA}}});

function bytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KB', 'MB', 'GB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${u[i]}`;
}

const CODE_NAMES = Object.fromEntries(Object.entries(KalturaPlayer.OfflineManager.ErrorCode ?? {}).map(([name, code]) => [code, name]));

/** Shows an error as the user should read it: code, name, what to do, and the URL it concerns. */
function showError(err) {
  const e = err?.payload?.detail ?? err;
  if (!e?.code) {
    $('#error').textContent = String(e);
    return;
  }
  const where = e.data?.url ? ` (${e.data.url}${e.data.status ? `, HTTP ${e.data.status}` : ''})` : '';
  $('#error').textContent = `Error ${e.code} ${CODE_NAMES[e.code] ?? ''}: ${e.data?.message ?? ''}${where}`;
}

function row(sample) {
  if (rows.has(sample.id)) return rows.get(sample.id);
  const tr = document.createElement('tr');
  tr.dataset.entry = sample.id;
  tr.innerHTML = `<td>${sample.name}</td><td class="state">not stored</td>
    <td><progress max="100" value="0"></progress> <span class="pct">0%</span></td>
    <td class="size">–</td><td class="speed">–</td>
    <td><button class="download">Download</button><button class="pause">Pause</button>
    <button class="resume">Resume</button><button class="remove">Remove</button>
    <button class="play">Play</button></td>`;
  const act = (cls, fn) => tr.querySelector(cls).addEventListener('click', () => fn().catch(showError));
  act('.download', async () => {
    $('#error').textContent = '';
    await om.getMediaConfig({entryId: sample.id});
    await om.download(sample.id, {bitrate: Number($('#bitrate').value), language: $('#language').value,
      textLanguages: $('#subtitles').value ? [$('#subtitles').value] : undefined});
  });
  act('.pause', () => om.pause(sample.id));
  act('.resume', () => om.resume(sample.id));
  act('.remove', async () => { await om.remove(sample.id); stored.delete(sample.id); showStorage(); render(sample.id, null); });
  act('.play', () => play(sample.id));
  $('#entries tbody').append(tr);
  rows.set(sample.id, tr);
  return tr;
}

function render(id, entry) {
  const tr = rows.get(id);
  if (!tr) return;
  const state = entry?.state ?? 'not stored';
  const cell = tr.querySelector('.state');
  cell.textContent = entry?.stopReason && state !== 'downloading' ? `${state} (${entry.stopReason})` : state;
  cell.className = `state state-${state}`;
  const pct = entry?.progress ?? 0;
  tr.querySelector('progress').value = pct;
  tr.querySelector('.pct').textContent = `${Math.floor(pct)}%`;
  tr.querySelector('.size').textContent = entry ? `${bytes(entry.size)} / ${bytes(entry.expectedSize)}` : '–';
  // Playable from the first progress event (a download has its plan by then): what is not
  // stored yet comes from the network.
  tr.querySelector('.play').disabled = !['completed', 'downloading', 'paused', 'failed'].includes(state);
  tr.querySelector('.pause').disabled = state !== 'downloading';
  tr.querySelector('.resume').disabled = !['paused', 'failed'].includes(state);
  tr.querySelector('.download').disabled = entry && state !== 'prepared';
  tr.querySelector('.remove').disabled = !entry;
}

async function refresh() {
  const all = await om.getAllDownloads();
  const byId = new Map(all.map((e) => [e.id, e]));
  for (const s of SAMPLES) render(s.id, byId.get(s.id) ?? null);
  stored.clear();
  for (const e of all) stored.set(e.id, e.size || 0);
  showStorage();
  $('#sw-state').textContent = navigator.serviceWorker.controller ? 'controlling this page' : 'not controlling';
}

/** What the player plays now: the entry id and the config it was given. */
let playing = null;

async function play(id) {
  const config = await om.getDownloadedMediaConfig(id);
  playing = {id, config};
  if (!player) {
    player = KalturaPlayer.setup({targetId: 'player', provider: {partnerId: PARTNER_ID}, playback: {autoplay: true, muted: true}});
    player.addEventListener(player.Event.ERROR, (e) => showError(e.payload));
    player.addEventListener(player.Event.TIME_UPDATE, () => {
      const {id, config} = playing;
      const how =
        config.state === 'completed'
          ? 'stored'
          : `${config.state} at ${Math.floor(config.progress)}%: stored segments from IndexedDB, the rest from the network`;
      $('#player-state').textContent = `Playing ${id} (${how}) from ${config.sources.dash[0].url} — ${player.currentTime.toFixed(1)} s`;
    });
  }
  player.setMedia(config);
}

async function mediaControl(action) {
  const r = await fetch(`/__demo/media/${action}`, {method: 'POST'});
  const {media} = await r.json();
  $('#media-state').textContent = media;
  $('#media-toggle').textContent = media === 'running' ? 'Stop media server' : 'Start media server';
}

om.addEventListener('progress', (e) => {
  const d = e.payload.detail;
  const tr = rows.get(d.entryId);
  if (!tr) return;
  tr.querySelector('progress').value = d.progress;
  tr.querySelector('.pct').textContent = `${Math.floor(d.progress)}%`;
  tr.querySelector('.size').textContent = `${bytes(d.bytesDownloaded)} / ${bytes(d.totalBytes)}`;
  tr.querySelector('.speed').textContent = d.speed ? `${bytes(d.speed)}/s` : '–';
  tr.querySelector('.play').disabled = false;
  stored.set(d.entryId, d.bytesDownloaded);
  showStorage();
});
om.addEventListener('statechange', () => refresh().catch(showError));
om.addEventListener('error', (e) => showError(e));
$('#media-toggle').addEventListener('click', () =>
  mediaControl($('#media-state').textContent === 'running' ? 'stop' : 'start').catch(showError));

for (const s of SAMPLES) row(s);
mediaControl('status').catch(() => { $('#media-state').textContent = 'unknown (no demo server)'; });
refresh().catch(showError);
