#!/usr/bin/env node
// Checks the declared minimum Rust version (the workspace's `rust-version`) against the crates:
// every workspace member must inherit it (`rust-version.workspace = true`), so that cargo and
// clippy's `incompatible_msrv` lint (which flags std APIs newer than it) read it, and no package
// in the resolved dependency graph (`cargo metadata --locked`) may declare a higher one.
//
// `node scripts/msrv.mjs`; exits 1 with what is wrong. What it cannot see: language syntax and
// compiler behaviour newer than the declared version (only a build with that toolchain does),
// and std APIs used in code clippy does not lint (the fuzz crate, outside the workspace).

import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The lines of the TOML table `[name]` of `text` (up to the next table header). */
function table(text, name) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `[${name}]`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.replace(/#.*/, '').trim());
}

/** "1.86" and "1.86.0" as [1, 86, 0]. */
const parts = (v) => {
  const p = v.split('.').map(Number);
  while (p.length < 3) p.push(0);
  return p;
};
const compare = (a, b) => {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
};

const problems = [];
const workspaceToml = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const declaredLine = table(workspaceToml, 'workspace.package').find((l) => /^rust-version\s*=/.test(l));
const declared = declaredLine?.match(/"([0-9.]+)"/)?.[1];
if (!declared) {
  console.error('msrv: Cargo.toml has no rust-version in [workspace.package]');
  process.exit(1);
}

const metadata = JSON.parse(
  execFileSync('cargo', ['metadata', '--format-version', '1', '--locked'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  }),
);
const members = new Set(metadata.workspace_members);

let highest = {version: '0', name: '(none)'};
for (const pkg of metadata.packages) {
  if (members.has(pkg.id)) {
    const inherits = table(readFileSync(pkg.manifest_path, 'utf8'), 'package').some((l) =>
      /^rust-version\s*(\.\s*workspace\s*=\s*true|=\s*\{\s*workspace\s*=\s*true\s*\})$/.test(l),
    );
    if (!inherits) {
      problems.push(`${pkg.name} (${pkg.manifest_path}) does not set rust-version.workspace = true`);
    } else if (pkg.rust_version !== declared) {
      problems.push(`${pkg.name} resolves rust-version ${pkg.rust_version}, not ${declared}`);
    }
    continue;
  }
  if (!pkg.rust_version) continue;
  if (compare(pkg.rust_version, highest.version) > 0) {
    highest = {version: pkg.rust_version, name: `${pkg.name} ${pkg.version}`};
  }
  if (compare(pkg.rust_version, declared) > 0) {
    problems.push(`${pkg.name} ${pkg.version} needs Rust ${pkg.rust_version}, above the declared ${declared}`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(`msrv: ${p}`);
  console.error(`msrv: FAILED (declared rust-version ${declared})`);
  process.exit(1);
}
console.log(
  `msrv: rust-version ${declared}, inherited by ${members.size} workspace crates; ` + `highest declared by a dependency: ${highest.version} (${highest.name})`,
);
