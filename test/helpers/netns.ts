/** Two network namespaces joined by a veth pair, made by a test for itself and deleted after. */
import { execFileSync, spawnSync } from 'node:child_process';

export const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

export interface Link { ns: string; dev: string; addr: string }

/** Makes both ends (a /24 each, links and loopback up); a reason instead when this machine can't. */
export function vethPair(a: Link, b: Link): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN) to make network namespaces';
  const r = spawnSync('ip', ['netns', 'add', a.ns], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot make a network namespace here: ${r.stderr.trim() || r.error?.message}`;
  ip('netns', 'add', b.ns);
  ip('link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns);
  for (const end of [a, b]) {
    ip('-n', end.ns, 'addr', 'add', `${end.addr}/24`, 'dev', end.dev);
    ip('-n', end.ns, 'link', 'set', end.dev, 'up');
    ip('-n', end.ns, 'link', 'set', 'lo', 'up');
  }
  return undefined;
}

export function deleteNamespaces(...names: string[]): void {
  for (const n of names) spawnSync('ip', ['netns', 'del', n]);
}
