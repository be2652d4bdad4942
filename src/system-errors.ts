/**
 * System errors in words, one table for inputs, outputs and sockets: a person reads "no space left
 * on the device", not "ENOSPC: no space left on device, write". Each caller adds the words that
 * only its context gets right (an output's ENOENT names the folder, a socket's EACCES a firewall).
 * The native meter says one of these itself (an input it cannot open for want of descriptors,
 * native/source.c): test/58 holds its words to this table's.
 */
import { getSystemErrorMap } from 'node:util';

export const SYSTEM_ERROR_WORDS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file size limit of this process is reached (ulimit -f, LimitFSIZE)',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links (a loop?)',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an input/output error (the disk or its file system failed)',
  EMFILE: 'this process has as many files open as it may (ulimit -n, LimitNOFILE)',
  ENFILE: 'the system has as many files open as it may',
  ENOMEM: 'out of memory',
};

/** e's words: the caller's own for its code first, then the table's, then libuv's text for the
 * errno ("connection reset by peer"), then the message as it came. */
export function systemErrorWords(e: unknown, own: Readonly<Record<string, string>> = {}): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? '';
  const words = own[code] ?? SYSTEM_ERROR_WORDS[code];
  if (words) return words;
  const known = typeof err?.errno === 'number' ? getSystemErrorMap().get(err.errno) : undefined;
  return known ? known[1] : err?.message ?? String(e);
}
