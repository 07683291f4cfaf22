// The npm package (page-shim/package.json): what `npm pack` puts in the tarball is exactly what an
// app needs (the built files and the README), the exports name files that are in it, there are no
// runtime dependencies, and the one version of package.json is stamped into the worker and the shim.
// Needs dist/ built (scripts/build.sh stages page-shim/dist/ from it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(SHIM, 'package.json'), 'utf8'));

const TYPES = [
  'arguments',
  'background',
  'channel',
  'drm',
  'errors',
  'events',
  'generated/protocol',
  'global',
  'index',
  'keep-alive',
  'media-config',
  'offline-manager',
  'persistent-sessions',
  'playable',
  'protocol',
  'provider',
  'registration',
  'storage',
  'timeout',
  'url',
];
const EXPECTED = [
  'README.md',
  'dist/kaltura-offline-manager.js',
  'dist/offline-manager-sw.js',
  'dist/offline-manager-sw_bg.wasm',
  'dist/offline-manager.d.ts',
  'dist/offline-manager.js',
  ...TYPES.map((t) => `dist/types/${t}.d.ts`),
  'package.json',
].sort();

let packed;
function pack() {
  if (!packed) {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: SHIM,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    [packed] = JSON.parse(out);
  }
  return packed;
}

test('npm pack holds exactly the built files, the README and package.json', () => {
  const { files, name, version, size } = pack();
  assert.equal(name, pkg.name);
  assert.equal(version, pkg.version);
  assert.deepEqual(files.map((f) => f.path).sort(), EXPECTED);
  assert.ok(size < 2_000_000, `tarball of ${size} bytes`);
  const wasm = files.find((f) => f.path === 'dist/offline-manager-sw_bg.wasm');
  assert.equal(wasm.size, readFileSync(path.join(SHIM, '..', 'dist', 'offline-manager-sw_bg.wasm')).length, 'the staged wasm is the one of dist/');
});

test('no runtime dependencies; every export names a packed file', () => {
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
    assert.equal(pkg[field], undefined, `package.json has ${field}`);
  }
  assert.equal(pkg.private, undefined);
  assert.equal(pkg.type, 'module');
  const files = new Set(pack().files.map((f) => f.path));
  const targets = {
    '.': { types: './dist/offline-manager.d.ts', default: './dist/offline-manager.js' },
    './script': './dist/kaltura-offline-manager.js',
    './sw': './dist/offline-manager-sw.js',
    './sw.wasm': './dist/offline-manager-sw_bg.wasm',
    './package.json': './package.json',
  };
  assert.deepEqual(pkg.exports, targets);
  for (const t of [pkg.main, pkg.types, ...Object.values(targets).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v)))]) {
    assert.ok(files.has(t.replace(/^\.\//, '')), `${t} is not in the tarball`);
  }
});

test('the package version is stamped into the worker and both shim bundles', () => {
  const dist = path.join(SHIM, 'dist');
  const sw = readFileSync(path.join(dist, 'offline-manager-sw.js'), 'utf8');
  // The worker script is minified (scripts/build.sh): its top-level names stay, its spacing and quotes do not.
  assert.match(sw, new RegExp(`\\bOM_VERSION\\s*=\\s*["']${pkg.version.replace(/\./g, '\\.')}["']`));
  assert.match(sw, /\bOM_WASM_CACHE\s*=\s*["']offline-manager-wasm-[0-9a-f]{16}["']/, 'the wasm cache is named after the wasm hash');
  assert.match(sw, /\bOM_PROTOCOL_VERSION\s*=\s*\d+\b/, 'the generated constants are part of the worker script');
  for (const f of ['offline-manager-sw.js', 'offline-manager.js', 'kaltura-offline-manager.js']) {
    const text = readFileSync(path.join(dist, f), 'utf8');
    assert.doesNotMatch(text, /__OM_[A-Z_]+__/, `${f} has an unstamped placeholder`);
    if (f !== 'offline-manager-sw.js') assert.ok(text.includes(`"${pkg.version}"`), `${f} does not carry ${pkg.version}`);
  }
});
