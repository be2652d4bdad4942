/**
 * Finds and loads plugins: a shipped one by name (dhcp, mdns), or a module file — .js/.cjs
 * (require), .mjs (import), .ts (compiled here with TypeScript's transpiler, then required).
 * Its default export (or module.exports) is the plugin: an object with a name and hooks.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FlowseekError } from '../errors';
import { PluginDefinition } from './api';
import { checkOwnerOnlyWritable } from './trust';

export const BUILTIN = ['dhcp', 'mdns', 'model'] as const;
const isShipped = (spec: string) => (BUILTIN as readonly string[]).includes(spec);
const shippedFile = (spec: string) => path.join(__dirname, 'builtin', `${spec}.js`);
const HOOKS = ['onInit', 'onUpdate', 'onExpire', 'onCleanup', 'onStart', 'onBatch', 'onPackets', 'wantsPackets'] as const;

export class PluginError extends FlowseekError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FS_PLUGIN', 1, options);
    this.name = 'PluginError';
  }
}

/** `import ... from 'flowseek'` in a plugin means this flowseek, wherever the plugin file is. */
function resolveFlowseek(): void {
  const M = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string; flowseekHooked?: boolean };
  if (M.flowseekHooked) return;
  M.flowseekHooked = true;
  const original = M._resolveFilename;
  const index = path.join(__dirname, '..', 'index.js');
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'flowseek' ? index : original.call(this, request, ...rest);
  };
}

// a real import() from CommonJS output (TypeScript would turn import() into require())
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, the only way to keep import()
const dynamicImport = new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, unknown>>;

function compileTs(file: string): Record<string, unknown> {
  let ts: typeof import('typescript');
  try {
    ts = require('typescript') as typeof import('typescript');
  } catch {
    // typescript is not installed with flowseek: only .ts plugins need it
    throw new PluginError(`${file}: a TypeScript plugin needs the typescript package, which is not installed with flowseek: ` +
      'npm install -g typescript (beside a global or Debian-packaged flowseek; in a project that depends on flowseek, ' +
      'the same without -g), or give the plugin compiled to .js (npx tsc --module commonjs plugin.ts)');
  }
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file, reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const d = errors[0];
    const where = d.file && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    throw new PluginError(`${file}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  m._compile(out.outputText, file);
  return m.exports as Record<string, unknown>;
}

/** The module behind a --plugin argument. */
async function moduleOf(spec: string): Promise<{ exports: Record<string, unknown>; file: string }> {
  resolveFlowseek();
  if (isShipped(spec)) return { exports: require(shippedFile(spec)) as Record<string, unknown>, file: spec };
  const file = path.resolve(spec);
  checkReadable(spec);
  checkOwnerOnlyWritable(spec, 'plugin');
  try {
    if (file.endsWith('.ts') || file.endsWith('.mts') || file.endsWith('.cts')) return { exports: compileTs(file), file: spec };
    // a URL made by hand breaks on a folder named with # or ? (read as the URL's fragment or query)
    if (file.endsWith('.mjs')) return { exports: await dynamicImport(pathToFileURL(file).href), file: spec };
    return { exports: require(file) as Record<string, unknown>, file: spec };
  } catch (e) {
    if (e instanceof PluginError) throw e;
    const first = String((e as Error).message ?? e).split('\n').find((l) => l.trim()) ?? String(e);
    throw new PluginError(`plugin ${spec} does not load: ${first}`, { cause: e });
  }
}

function checkReadable(spec: string): void {
  try {
    fs.accessSync(spec, fs.constants.R_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') {
      throw new PluginError(`plugin ${spec}: no such file (shipped plugins: ${BUILTIN.join(', ')})`);
    }
    const nobody = process.getuid?.() === 65534 ? ' (a capture loads plugins once it has dropped its privileges, as nobody: the file and its folders must be readable by others)' : '';
    throw new PluginError(`plugin ${spec}: permission denied${nobody}`);
  }
}

/**
 * The shipped plugins named, and what they load (onnxruntime-node), loaded while a capture worker
 * still has its privileges: they are flowseek's own code, and an install in a folder only root may
 * enter (a clone in /root) cannot be read once the worker runs as nobody. Loading runs no hook;
 * plugin files given by path are still read only after the drop.
 */
export function preloadShipped(specs: readonly { spec: string }[]): void {
  for (const { spec } of specs) {
    if (!isShipped(spec)) continue;
    const m = require(shippedFile(spec)) as { preload?: () => void };
    m.preload?.();
  }
}

/** Without running any plugin code: each plugin file exists and only its owner can change it. */
export function checkPluginFiles(specs: readonly { spec: string }[]): void {
  for (const { spec } of specs) {
    if (isShipped(spec)) continue;
    checkReadable(spec);
    checkOwnerOnlyWritable(spec, 'plugin');
  }
}

/** The file of each plugin loaded, and its name: a stray error's stack says whose it is. */
const loadedFiles = new Map<string, string>();

/** Loads and checks one plugin. */
export async function loadPlugin(spec: string): Promise<PluginDefinition> {
  const { exports, file } = await moduleOf(spec);
  const p = (exports && typeof exports === 'object' && 'default' in exports ? exports.default : exports) as PluginDefinition;
  if (!p || typeof p !== 'object') throw new PluginError(`plugin ${file}: its default export must be an object with a name and hooks, got ${typeof p}`);
  if (typeof p.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) {
    throw new PluginError(`plugin ${file}: "name" must be a word of letters, digits and _ (it prefixes nothing, but names the plugin in messages)`);
  }
  for (const h of HOOKS) {
    if (p[h] !== undefined && typeof p[h] !== 'function') throw new PluginError(`plugin ${p.name} (${file}): ${h} must be a function`);
  }
  if (!HOOKS.some((h) => typeof p[h] === 'function')) throw new PluginError(`plugin ${p.name} (${file}): no hook (${HOOKS.join(', ')})`);
  // the real path: require() names a symlinked plugin by its target in stacks. Best effort: a
  // capture's worker loads its plugins as nobody, who may not look into the folders on the way
  loadedFiles.set(realPath(isShipped(spec) ? shippedFile(spec) : path.resolve(spec)), p.name);
  return p;
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

/** The plugin whose file a stack passes through (the innermost frame first), if any. */
export function pluginOfStack(stack: string | undefined): string | undefined {
  for (const line of stack?.split('\n').slice(1) ?? []) {
    for (const [file, name] of loadedFiles) {
      if (line.includes(file) || line.includes(pathToFileURL(file).href)) return name;
    }
  }
  return undefined;
}
