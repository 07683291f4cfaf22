// Builds the page shim:
//   1. tsc (the project page-shim/tsconfig.json): type-check; JS + declarations into page-shim/build/
//      (the unit tests import that), declarations copied to dist/types/;
//   2. esbuild: dist/offline-manager.js (ESM) and dist/kaltura-offline-manager.js (IIFE, globals);
//   3. dist/offline-manager.d.ts re-exporting dist/types/index.d.ts.
// Exits non-zero on type errors. Usage: node page-shim/build.mjs

import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { build } from 'esbuild';

const shimDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(shimDir, '..');
const distDir = join(root, 'dist');
const typesDir = join(distDir, 'types');
const tscOut = join(shimDir, 'build');

function typecheckAndEmit() {
  const configPath = join(shimDir, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) return [read.error];
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, shimDir, undefined, configPath);
  if (parsed.errors.length) return parsed.errors;
  rmSync(tscOut, { recursive: true, force: true });
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const diagnostics = [...ts.getPreEmitDiagnostics(program)];
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) return diagnostics;
  const emitted = program.emit();
  return [...diagnostics, ...emitted.diagnostics];
}

const diagnostics = typecheckAndEmit();
if (diagnostics.length) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) {
    process.stderr.write('page-shim: type errors, nothing bundled\n');
    process.exit(1);
  }
}

// Declarations: dist/types/*.d.ts, and the entry's declaration next to its bundle.
mkdirSync(distDir, { recursive: true });
rmSync(typesDir, { recursive: true, force: true });
mkdirSync(typesDir, { recursive: true });
for (const file of readdirSync(tscOut, { recursive: true })) {
  if (file.endsWith('.d.ts')) {
    mkdirSync(dirname(join(typesDir, file)), { recursive: true });
    cpSync(join(tscOut, file), join(typesDir, file));
  }
}
writeFileSync(join(distDir, 'offline-manager.d.ts'), "// Types of dist/offline-manager.js (declarations in ./types/).\nexport * from './types/index.js';\n");

const common = { bundle: true, minify: true, target: 'es2020', platform: 'browser', legalComments: 'none', logLevel: 'warning' };
const bundles = [
  { entryPoints: [join(shimDir, 'src/index.ts')], format: 'esm', outfile: join(distDir, 'offline-manager.js') },
  { entryPoints: [join(shimDir, 'src/global.ts')], format: 'iife', outfile: join(distDir, 'kaltura-offline-manager.js') },
];
try {
  await Promise.all(bundles.map((b) => build({ ...common, ...b })));
} catch {
  process.exit(1); // esbuild has printed the errors
}

for (const { outfile } of bundles) {
  const bytes = readFileSync(outfile);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`${relative(root, outfile).padEnd(34)} ${String(bytes.length).padStart(6)} B raw  ${String(gz).padStart(6)} B gzip`);
}
