import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Reads a V8 .cpuprofile (from the bench's --profile, or `node --cpu-prof`) and says where the
 * time went: by package, by file, by function (self time), and the inclusive time of Lockstep's
 * own functions, so a cost can be traced to the server code that causes it.
 * CLI: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const isProfile = (value: unknown): value is CpuProfile =>
  typeof value === 'object' && value !== null && 'nodes' in value && 'samples' in value && 'timeDeltas' in value;

/** A short, stable name for where code lives: a workspace path, a package, or V8's own buckets. */
function place(url: string, repoRoot: string): { file: string; owner: string } {
  if (!url) return { file: '(native / V8)', owner: '(native / V8)' };
  if (url.startsWith('node:')) return { file: url, owner: 'node internals' };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length);
    const parts = rest.split('/');
    const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? rest);
    return { file: `${name}/${rest.slice(name.length + 1)}`, owner: name };
  }
  const relative = path.startsWith(repoRoot) ? path.slice(repoRoot.length) : path;
  const workspace = relative.split('/')[0] ?? relative;
  return { file: relative, owner: ['server', 'shared'].includes(workspace) ? `lockstep ${workspace}/` : relative };
}

function top(totals: Map<string, number>, limit: number, allMs: number): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, totalMs]) => `  ${((100 * totalMs) / allMs).toFixed(1).padStart(5)} %  ${totalMs.toFixed(0).padStart(7)} ms  ${name}`);
}

export function summariseProfile(path: string, repoRoot: string, limit: number): string {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isProfile(parsed)) throw new Error(`${path} is not a V8 CPU profile`);
  const nodes = new Map(parsed.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of parsed.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const up = (node: ProfileNode) => nodes.get(parent.get(node.id) ?? -1);
  /** tsx's output loses line numbers, so an anonymous function is named after the function around it. */
  const functionName = (node: ProfileNode) => {
    const { file } = place(node.callFrame.url, repoRoot);
    let name = node.callFrame.functionName;
    for (let at = up(node); !name && at; at = up(at)) {
      if (at.callFrame.url === node.callFrame.url && at.callFrame.functionName) name = `(anonymous in ${at.callFrame.functionName})`;
    }
    return `${name || '(anonymous)'}  ${file}${node.callFrame.url.startsWith('node:') ? `:${node.callFrame.lineNumber + 1}` : ''}`;
  };
  const ownCode = (node: ProfileNode) => place(node.callFrame.url, repoRoot).owner.startsWith('lockstep ');
  /** The package whose code is running: node internals and native calls (socket writes, JSON) are charged to their caller. */
  const packageOf = (node: ProfileNode) => {
    for (let at: ProfileNode | undefined = node; at; at = up(at)) {
      const { url } = at.callFrame;
      if (url && !url.startsWith('node:')) return place(url, repoRoot).owner;
    }
    return node.callFrame.functionName || '(native / V8)';
  };
  /** The profiler's own start and stop (node:inspector) are not the server's work. */
  const isProfiler = (node: ProfileNode) => {
    for (let at: ProfileNode | undefined = node; at; at = up(at)) if (at.callFrame.url === 'node:inspector') return true;
    return false;
  };

  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (totals: Map<string, number>, key: string, ms: number) => totals.set(key, (totals.get(key) ?? 0) + ms);
  let allMs = 0;
  let idleMs = 0;

  parsed.samples.forEach((id, index) => {
    const node = nodes.get(id);
    const ms = (parsed.timeDeltas[index] ?? 0) / 1000;
    if (!node || isProfiler(node)) return;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    allMs += ms;
    add(byFunction, functionName(node), ms);
    add(byFile, place(node.callFrame.url, repoRoot).file, ms);
    add(byPackage, packageOf(node), ms);
    // Inclusive time of our own functions: each counted once per sample, however deep the recursion.
    const seen = new Set<string>();
    for (let at: ProfileNode | undefined = node; at; at = up(at)) {
      if (!ownCode(at)) continue;
      const name = functionName(at);
      if (seen.has(name)) continue;
      seen.add(name);
      add(inclusive, name, ms);
    }
  });

  // Long tasks: runs of consecutive busy samples. They delay every cue queued behind them.
  interface Stretch {
    ms: number;
    functions: Map<string, number>;
  }
  const stretches: Stretch[] = [];
  let current: Stretch | undefined;
  parsed.samples.forEach((id, index) => {
    const node = nodes.get(id);
    const ms = (parsed.timeDeltas[index] ?? 0) / 1000;
    if (!node || node.callFrame.functionName === '(idle)' || isProfiler(node)) {
      if (current) stretches.push(current);
      current = undefined;
      return;
    }
    current ??= { ms: 0, functions: new Map() };
    current.ms += ms;
    add(current.functions, packageOf(node) === '(garbage collector)' ? '(garbage collector)' : functionName(node), ms);
  });
  if (current) stretches.push(current);
  const longest = stretches.sort((a, b) => b.ms - a.ms).slice(0, 5);
  const longTasks = longest.map((stretch) => {
    const [topName, topMs] = [...stretch.functions.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['?', 0];
    return `  ${stretch.ms.toFixed(0).padStart(5)} ms busy without a break; most of it in ${topName} (${topMs.toFixed(0)} ms)`;
  });

  return [
    `Busy ${(allMs / 1000).toFixed(1)} s, idle ${(idleMs / 1000).toFixed(1)} s. Percentages are of busy time.`,
    'Longest busy stretches (the event loop did not get back to idle):',
    ...longTasks,
    'Time by package running (node internals and native calls, e.g. socket writes, charged to the package that called them):',
    ...top(byPackage, limit, allMs),
    'Self time by file:',
    ...top(byFile, limit, allMs),
    'Self time by function (native frames such as writeUtf8String are socket writes):',
    ...top(byFunction, limit, allMs),
    "Inclusive time of Lockstep's own functions (server/, shared/):",
    ...top(inclusive, limit, allMs),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, limit] = process.argv.slice(2);
  if (!file) throw new Error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.stdout.write(`${summariseProfile(file, fileURLToPath(new URL('..', import.meta.url)), Number(limit ?? 20))}\n`);
}
