/**
 * `edge-agent enroll`: trades the one-time token from the admin for this box's certificate, and writes what
 * `edge-agent run` needs beside the configuration file: `agent.key` (made here, 0600, never sent), `agent.crt`,
 * `ca.pem` when the broker's CA is not one Node trusts already, and the configuration itself (tenant, agent,
 * broker and certificate; the modems from `--modem` or from the file as it was).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnrolReply, parseEnrolmentToken } from '../../functions/contracts/agents.ts';
import { thingName } from '../../functions/contracts/topics.ts';
import { AgentConfig, ConfigError, fieldPath } from '../config.ts';
import { makeKeyAndCsr } from './csr.ts';

export class EnrolmentRefusedError extends Error {
  override name = 'EnrolmentRefusedError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface EnrollOptions {
  /** The API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  url: string;
  token: string;
  /** The configuration file to write (`.yaml`, `.yml` or `.json`); the key and certificates go beside it. */
  config: string;
  /** `GROUP=URL` each; replaces the file's modems. Needed when there is no file yet. */
  modems: string[];
  /** For a new file; default `state` beside it. */
  stateDir?: string | undefined;
  fetch?: typeof fetch;
}

export interface Enrolled {
  thingName: string;
  config: string;
  files: { key: string; certificate: string; ca?: string };
}

/** Writes through a fresh private file and a rename, so a reader never sees half a file or a wider mode. */
async function writePrivate(file: string, contents: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents, { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
  await chmod(file, 0o600);
}

function parseModems(specs: string[]) {
  return specs.map((spec, i) => {
    const at = spec.indexOf('=');
    if (at <= 0) throw new ConfigError('bad --modem', [`--modem ${JSON.stringify(spec)}: must be GROUP=URL`]);
    return { id: `modem-${i + 1}`, group: spec.slice(0, at), url: spec.slice(at + 1) };
  });
}

async function readExisting(file: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(file)) return undefined;
  const text = await readFile(file, 'utf8');
  // yaml is loaded only for a YAML file: a resident agent that never enrols or reads YAML does not carry it
  const raw =
    path.extname(file).toLowerCase() === '.json'
      ? JSON.parse(text)
      : (await import('yaml')).default.parse(text);
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : undefined;
}

export async function enroll(options: EnrollOptions): Promise<Enrolled> {
  const token = parseEnrolmentToken(options.token.trim());
  if (!token)
    throw new ConfigError('bad token', [
      '--token: not an enrolment token (sp.enrol.<stage>.<tenant>.<agent>.…)',
    ]);
  const name = thingName(token);
  const configFile = path.resolve(options.config);
  const dir = path.dirname(configFile);
  const files = {
    key: path.join(dir, 'agent.key'),
    certificate: path.join(dir, 'agent.crt'),
    ca: path.join(dir, 'ca.pem'),
  };

  // Everything that could be wrong on this side is found before the token is spent.
  const existing = await readExisting(configFile);
  const modems = options.modems.length > 0 ? parseModems(options.modems) : existing?.modems;
  if (modems === undefined)
    throw new ConfigError('no modems', [
      `--modem: give at least one GROUP=URL (${configFile} does not exist yet)`,
    ]);
  const oldMqtt = (existing?.mqtt ?? {}) as Record<string, unknown>;
  const draft = (mqtt: Record<string, unknown>) => ({
    ...existing,
    stage: token.stage,
    tenantId: token.tenantId,
    agentId: token.agentId,
    stateDir: existing?.stateDir ?? options.stateDir ?? 'state',
    modems,
    mqtt: {
      ...(oldMqtt.protocolVersion !== undefined && { protocolVersion: oldMqtt.protocolVersion }),
      ...(oldMqtt.keepaliveSeconds !== undefined && { keepaliveSeconds: oldMqtt.keepaliveSeconds }),
      ...mqtt,
    },
  });
  const check = AgentConfig.safeParse(
    draft({ url: 'mqtts://placeholder:8883', cert: 'agent.crt', key: 'agent.key' }),
  );
  if (!check.success) {
    const issues = check.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }

  const { keyPem, csrPem } = makeKeyAndCsr(name);
  const response = await (options.fetch ?? fetch)(`${options.url.replace(/\/+$/, '')}/v1/enrolments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: options.token.trim(), csr: csrPem }),
  });
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new EnrolmentRefusedError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `HTTP ${response.status}`,
    );
  }
  const reply = EnrolReply.parse(body);

  await mkdir(dir, { recursive: true, mode: 0o750 });
  await writePrivate(files.key, keyPem);
  await writePrivate(files.certificate, reply.mqtt.certificatePem);
  if (reply.mqtt.caPem) await writePrivate(files.ca, reply.mqtt.caPem);
  const config = draft({
    url: reply.mqtt.url,
    cert: 'agent.crt',
    key: 'agent.key',
    ...(reply.mqtt.caPem && { ca: 'ca.pem' }),
  });
  const text =
    path.extname(configFile).toLowerCase() === '.json'
      ? `${JSON.stringify(config, null, 2)}\n`
      : (await import('yaml')).default.stringify(config);
  await writePrivate(configFile, text);
  return {
    thingName: reply.thingName,
    config: configFile,
    files: { key: files.key, certificate: files.certificate, ...(reply.mqtt.caPem && { ca: files.ca }) },
  };
}
