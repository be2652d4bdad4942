/**
 * The kernel's socket tables (/proc/net/tcp, tcp6, udp, udp6) and which process holds each socket
 * (/proc/<pid>/fd → socket:[inode]). Read in the namespace of the calling process.
 */
import * as fs from 'node:fs';
import { ipBytes } from '../ip';

const TABLES: [string, 6 | 17][] = [['tcp', 6], ['tcp6', 6], ['udp', 17], ['udp6', 17]];

/** The raw lines of the four tables, each with its protocol (the poller parses only new ones). */
export function readSocketLines(procNet = '/proc/net'): [6 | 17, string][] {
  const out: [6 | 17, string][] = [];
  for (const [name, protocol] of TABLES) {
    let text: string;
    try {
      text = fs.readFileSync(`${procNet}/${name}`, 'latin1');
    } catch {
      continue; // no IPv6, or no such table in this kernel
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) if (lines[i].length > 20) out.push([protocol, lines[i]]);
  }
  return out;
}

/** A line's match key in /proc's own hex ("6|0100007F:1F90|0200000A:D431", "*" for an
 * unconnected UDP socket's remote end) and its inode (0: no owner, e.g. TIME_WAIT). */
export function parseSocketLine(protocol: 6 | 17, line: string): { key: string; inode: number } {
  const f = line.trim().split(/\s+/);
  const remote = /^0+:0000$/.test(f[2]) ? '*' : f[2];
  return { key: `${protocol}|${f[1]}|${remote}`, inode: Number(f[9]) || 0 };
}

/** An address and port of a flow, as /proc/net writes them (IPv4 also as IPv4-mapped IPv6). */
export function procHex(ip: string, port: number): string[] {
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  const words = (bytes: number[]) => {
    let hex = '';
    for (let i = 0; i < bytes.length; i += 4) {
      for (let k = 3; k >= 0; k--) hex += bytes[i + k].toString(16).toUpperCase().padStart(2, '0');
    }
    return hex;
  };
  const bytes = ipBytes(ip);
  if (bytes.length === 4) return [`${words(bytes)}:${p}`, `${words([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes])}:${p}`];
  return [`${words(bytes)}:${p}`];
}

export interface ProcessInfo {
  pid: number;
  name: string;
  cmdline: string;
  /** the process's real user id; -1 if it went meanwhile */
  uid: number;
}

/** inode → process, for the inodes asked about: one walk over /proc/<pid>/fd, the processes in
 * `first` (recent owners: a server opens socket after socket) before the others, ending as soon
 * as every inode has its owner. */
export function findOwners(inodes: Set<number>, first: readonly number[] = [], walk: { denied: number } = { denied: 0 }): Map<number, ProcessInfo> {
  const owners = new Map<number, ProcessInfo>();
  walk.denied = 0;
  if (inodes.size === 0) return owners;
  const rest = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e) && !first.includes(Number(e)));
  for (const entry of [...first.map(String), ...rest]) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch (e) {
      // gone, or not ours to read: another user's, without CAP_SYS_PTRACE (counted, to be said)
      if ((e as NodeJS.ErrnoException).code === 'EACCES') walk.denied++;
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (!m || !inodes.has(Number(m[1])) || owners.has(Number(m[1]))) continue;
      owners.set(Number(m[1]), describe(Number(entry)));
      if (owners.size === inodes.size) return owners;
    }
  }
  return owners;
}

function describe(pid: number): ProcessInfo {
  const read = (f: string) => { try { return fs.readFileSync(`/proc/${pid}/${f}`, 'utf8'); } catch { return ''; } };
  // the real user id, as the kernel events give it: the first of status's four
  const uid = Number(/^Uid:\s+(\d+)/m.exec(read('status'))?.[1] ?? -1);
  return { pid, name: read('comm').trim(), cmdline: read('cmdline').split('\0').filter(Boolean).join(' '), uid };
}
