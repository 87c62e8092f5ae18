// Compiles our WebAssembly kernels: each src/networks/kernels/<name>.kernel.ts names a .wat
// template under src/networks/kernels/wat/ and its variants; every variant is compiled with wabt
// for a private and for a shared heap, and the bytes go to src/networks/kernels/generated/modules.ts
// (git-ignored: the .wat is the source; a fresh clone's `npm install` installs wabt, a
// devDependency, and runs this through `prepare`). The published package ships the compiled bytes
// in dist/, so users never run wabt.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const defaultRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const KERNELS = 'src/networks/kernels';
const OUT = `${KERNELS}/generated/modules.ts`;

/** What `{{memory}}` becomes: the backend's heap, imported (a shared memory needs a maximum; 65536 pages is wasm32's). */
const MEMORY = {
  private: '(import "env" "memory" (memory 0))',
  shared: '(import "env" "memory" (memory 0 65536 shared))',
};

/** wabt features our modules use (threads: shared memory). */
const FEATURES = { simd: true, relaxed_simd: true, threads: true };

/** The kernel configs: `kernel` of every <name>.kernel.ts, loaded through esbuild (they are TypeScript). */
export async function loadKernelConfigs(root = defaultRoot) {
  const { transform } = await import('esbuild');
  const dir = join(root, KERNELS);
  const configs = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.kernel.ts')).sort()) {
    const { code } = await transform(readFileSync(join(dir, file), 'utf8'), { loader: 'ts', format: 'esm' });
    const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    if (mod.kernel === undefined) throw new Error(`build-kernels: expected ${file} to export \`kernel\`, received exports ${Object.keys(mod).join(', ') || 'none'}; fix: export const kernel = { wat, variants } satisfies KernelConfig`);
    configs.push({ name: file.slice(0, -'.kernel.ts'.length), file, config: mod.kernel });
  }
  return configs;
}

/**
 * The template with every `{{name args...}}` replaced from `subs` (text, or a function of the
 * arguments). Every placeholder must be filled and every substitution used, so a typo fails the build.
 */
export function expandTemplate(template, subs, where) {
  const used = new Set();
  const text = template.replace(/\{\{\s*([A-Za-z_][\w-]*)((?:\s+[^\s{}]+)*)\s*\}\}/g, (_, name, rest) => {
    const sub = subs[name];
    if (sub === undefined) throw new Error(`build-kernels: expected a substitution for {{${name}}} in ${where}, received none; fix: add \`${name}\` to the variant`);
    used.add(name);
    const args = rest.trim() === '' ? [] : rest.trim().split(/\s+/);
    if (typeof sub === 'function') return sub(...args);
    if (args.length > 0) throw new Error(`build-kernels: expected {{${name}}} without arguments in ${where} (its substitution is text), received ${args.length}; fix: make it a function`);
    return sub;
  });
  if (/\{\{|\}\}/.test(text)) throw new Error(`build-kernels: expected only {{name args}} placeholders in ${where}, received a malformed one; fix: the template`);
  const unused = Object.keys(subs).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`build-kernels: expected every substitution to be used in ${where}, received unused ${unused.join(', ')}; fix: remove them or use them in the template`);
  return text;
}

/** Compiles every variant of every kernel: [{ kernel, variant, heap, bytes }], in a stable order. */
export async function compileKernels(root = defaultRoot) {
  const wabt = await (await import('wabt')).default();
  const out = [];
  for (const { name, file, config } of await loadKernelConfigs(root)) {
    const template = readFileSync(join(root, KERNELS, 'wat', config.wat), 'utf8');
    for (const [variant, subs] of Object.entries(config.variants)) {
      if ('memory' in subs) throw new Error(`build-kernels: expected no \`memory\` in ${file} variant ${variant} (the build fills it), received one; fix: remove it`);
      for (const heap of ['private', 'shared']) {
        const where = `${config.wat} (${file}, variant ${variant}, ${heap} heap)`;
        const wat = expandTemplate(template, { ...subs, memory: MEMORY[heap] }, where);
        const module = wabt.parseWat(`${name}.${variant}.${heap}.wat`, wat, FEATURES);
        try {
          module.resolveNames();
          module.validate(FEATURES);
          out.push({ kernel: name, variant, heap, bytes: Uint8Array.from(module.toBinary({ canonicalize_lebs: true, write_debug_names: false }).buffer) });
        } finally {
          module.destroy();
        }
      }
    }
  }
  return out;
}

/** The inputs of generated/modules.ts: templates, configs and this script. */
function newestInput(root) {
  const dir = join(root, KERNELS);
  const files = [
    ...readdirSync(join(dir, 'wat')).map((f) => join(dir, 'wat', f)),
    ...readdirSync(dir).filter((f) => f.endsWith('.kernel.ts')).map((f) => join(dir, f)),
    fileURLToPath(import.meta.url),
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Writes generated/modules.ts (only when its content changes). */
export async function buildKernels(root = defaultRoot) {
  const modules = await compileKernels(root);
  const tree = {};
  for (const { kernel, variant, heap, bytes } of modules) ((tree[kernel] ??= {})[variant] ??= {})[heap] = Buffer.from(bytes).toString('base64');
  // Typed by name, not `as const`: the declaration file then lists variants, not the bytes.
  const type = Object.entries(tree)
    .map(([kernel, variants]) => `  ${JSON.stringify(kernel)}: { ${Object.keys(variants).map((v) => `${JSON.stringify(v)}: HeapBytes`).join('; ')} };`)
    .join('\n');
  const text = [
    '// Generated by scripts/build-kernels.mjs from wat/*.wat and *.kernel.ts: do not edit.',
    '/** One module variant compiled for each heap, base64. */',
    'export interface HeapBytes {',
    '  private: string;',
    '  shared: string;',
    '}',
    '',
    '/** Compiled kernel modules: kernel -> variant -> heap (private or shared). */',
    `export const KERNEL_MODULES: {\n${type}\n} = ${JSON.stringify(tree, null, 2)};`,
    '',
  ].join('\n');
  const out = join(root, OUT);
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out) || readFileSync(out, 'utf8') !== text) writeFileSync(out, text);
  // Dated as its inputs, so that build-if-stale does not take the output for a newer source.
  const t = new Date(newestInput(root));
  utimesSync(out, t, t);
  return modules;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const modules = await buildKernels();
  console.log(`build-kernels: ${modules.length} modules -> ${OUT}`);
}
