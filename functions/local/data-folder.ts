/**
 * What the local stack keeps between runs in its data folder (`.local`): the deployment key, the summary a
 * newcomer reads (`stack.json`) and the demo agent's credentials, so a second start reuses keys and agent.
 * Without a folder, a temporary one holds the run's files and nothing carries over.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makePrivate } from './private-files.ts';
import type { DemoSeed } from './seed.ts';
import type { ConsoleLogins } from './seed-console.ts';

/** The `.local/stack.json` a newcomer reads (DESIGN.md "The local stack"). */
export interface StackJson {
  apiUrl: string;
  adminUrl: string;
  portalUrl: string;
  tenantId: string;
  authKey: string;
  syncKey: string;
  adminKey: string;
  operatorKey: string;
  mqttUrl: string;
  demoUsers: string[];
  simulator: { outbox: string };
  /** The demo agent's RADIUS front (`npm start` only), for radtest and radclient. */
  radius?: { host: string; port: number; secret: string };
  /** The DynamoDB stand-in, for `npm run admin` (console accounts) to write to. */
  dynamoEndpoint?: string;
  /** Sign-ins for the console at `adminUrl`: password, then the TOTP code of `totpSecret`. */
  console: ConsoleLogins;
}

export interface DataFolder {
  dir: string;
  /** False for a temporary folder: nothing is read from a previous run or kept for the next. */
  persistent: boolean;
}

export function openDataFolder(dir: string | undefined): DataFolder {
  if (dir === undefined) return { dir: mkdtempSync(join(tmpdir(), 'smspass-')), persistent: false };
  const resolved = resolve(dir);
  // A temporary folder is already private (mkdtemp makes it 0700).
  makePrivate(resolved);
  return { dir: resolved, persistent: true };
}

export function loadOrCreateSecret(folder: DataFolder): Buffer {
  if (!folder.persistent) return randomBytes(32);
  const file = join(folder.dir, 'deployment.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64'), { mode: 0o600 });
  return secret;
}

/** The keys and agent the previous run handed out, for the seed to keep while they are live. */
export function readPrevious(folder: DataFolder): Partial<DemoSeed> | undefined {
  if (!folder.persistent) return undefined;
  try {
    const saved = JSON.parse(readFileSync(join(folder.dir, 'stack.json'), 'utf8')) as StackJson;
    const agent = JSON.parse(
      readFileSync(join(folder.dir, 'agent-credentials.json'), 'utf8'),
    ) as DemoSeed['agent'];
    return {
      keys: { auth: saved.authKey, sync: saved.syncKey, admin: saved.adminKey, operator: saved.operatorKey },
      agent,
    };
  } catch {
    return undefined;
  }
}

/** The console sign-ins the previous run handed out, for the seed to keep. */
export function readPreviousConsole(folder: DataFolder): Partial<ConsoleLogins> | undefined {
  if (!folder.persistent) return undefined;
  try {
    return (JSON.parse(readFileSync(join(folder.dir, 'stack.json'), 'utf8')) as Partial<StackJson>).console;
  } catch {
    return undefined;
  }
}

export function writeStackFiles(folder: DataFolder, json: StackJson, agent: DemoSeed['agent']): void {
  if (!folder.persistent) return;
  writeFileSync(join(folder.dir, 'stack.json'), `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  // The agent's credentials are kept so that a second start reuses them.
  writeFileSync(join(folder.dir, 'agent-credentials.json'), `${JSON.stringify(agent)}\n`, {
    mode: 0o600,
  });
}
