/**
 * Code a run loads from files (plugins, models) must not be changeable by anyone but its owner
 * and root, as ssh refuses a key file others can write: otherwise whoever can write it runs code
 * inside every capture. The file and each folder above it are checked; a folder with the sticky
 * bit (/tmp) lets nobody replace another user's file, so it may be writable by all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlowseekError } from '../errors';

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/** Throws naming the file (or folder) that others can write, and how to fix it. */
export function checkOwnerOnlyWritable(file: string, what: string): void {
  const full = path.resolve(file);
  const st = fs.statSync(full);
  if (st.mode & GROUP_OR_OTHER_WRITE) {
    throw new FlowseekError(`${what} ${file} is writable by others than its owner (mode ${(st.mode & 0o777).toString(8)}): ` +
      `refused, as anyone who can write it could run code in flowseek (chmod go-w ${file})`, 'FS_PLUGIN');
  }
  for (let dir = path.dirname(full); ; dir = path.dirname(dir)) {
    const d = fs.statSync(dir);
    if (d.mode & GROUP_OR_OTHER_WRITE && !(d.mode & STICKY)) {
      throw new FlowseekError(`${what} ${file} is in ${dir}, which others than its owner can write (mode ${(d.mode & 0o777).toString(8)}): ` +
        `refused, as anyone who can write there could replace it (chmod go-w ${dir})`, 'FS_PLUGIN');
    }
    if (dir === path.dirname(dir)) return;
  }
}
