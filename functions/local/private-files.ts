/**
 * The local data folder holds the deployment key, provider credentials' key, the API keys and the database:
 * nobody but its owner may read any of it.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes the folder (and everything already in it, from older runs too) private, and has every file and
 * folder this process creates from now on made private: dynalite, the agent's journal and the simulator's
 * outbox create theirs with the default modes. A stack with a data folder owns its process.
 */
export function makePrivate(dir: string): void {
  if (isMainThread) process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(dir);
}

function tighten(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(path, PRIVATE_DIR_MODE);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else if ((stat.mode & 0o077) !== 0) {
    // Only the owner's bits stay.
    chmodSync(path, stat.mode & 0o700);
  }
}
