/**
 * The edge agent's one configuration file, JSON or YAML by extension. Every bad field is reported with its
 * path, e.g. `modems[1].url: must be tcp://host:port or a serial device path`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ID_PATTERN, LOCAL_STAGE, STAGE_PATTERN } from '../functions/contracts/index.ts';
import { AdConfig } from './ad/config.ts';
import { LOG_LEVELS } from './log.ts';
import { PROFILE_NAMES } from './modem/at/profiles.ts';
import { parseTransportUrl } from './modem/transport/transport-url.ts';
import { RadiusConfig } from './radius/config.ts';

const topicId = z.string().regex(ID_PATTERN, 'must be 1 to 64 letters, digits, "_" or "-"');
const name = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

export const ModemConfig = z
  .object({
    id: name,
    group: name,
    url: z
      .string()
      .refine(
        (url) => parseTransportUrl(url) !== undefined,
        'must be tcp://host:port or a serial device path',
      ),
    pin: z
      .string()
      .regex(/^\d{4,8}$/, 'must be 4 to 8 digits')
      .optional(),
    smsc: z
      .string()
      .regex(/^\+?\d{3,20}$/, 'must be a phone number such as +4540390000')
      .optional(),
    mode: z.enum(['pdu', 'text', 'auto']).default('auto'),
    profile: z.enum(PROFILE_NAMES, { error: `must be one of ${PROFILE_NAMES.join(', ')}` }).default('auto'),
  })
  .strict();
export type ModemConfig = z.output<typeof ModemConfig>;

export const MqttConfig = z
  .object({
    url: z.string().regex(/^mqtts?:\/\/[^/\s]+$/, 'must be mqtt://host:port or mqtts://host:port'),
    username: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(1024).optional(),
    passwordFile: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)], { error: 'must be 4 (MQTT 3.1.1) or 5' })
      .default(4),
    keepaliveSeconds: z.number().int().min(5).max(1200).default(30),
  })
  .strict()
  .superRefine((mqtt, ctx) => {
    if (mqtt.password !== undefined && mqtt.passwordFile !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwordFile'],
        message: 'give either password or passwordFile',
      });
    }
    if ((mqtt.cert === undefined) !== (mqtt.key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [mqtt.cert === undefined ? 'cert' : 'key'],
        message: 'cert and key go together',
      });
    }
    if (mqtt.cert !== undefined && !mqtt.url.startsWith('mqtts://')) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'a client certificate needs an mqtts:// url' });
    }
    if (mqtt.cert === undefined && mqtt.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'required unless cert and key are given' });
    }
  });
export type MqttConfig = z.output<typeof MqttConfig>;

export const AgentConfig = z
  .object({
    /** The deployment's stage, as enrolment wrote it: the topics and thing name carry it (`local` by default). */
    stage: z
      .string()
      .regex(STAGE_PATTERN, 'must be 1 to 12 lowercase letters or digits, starting with a letter')
      .default(LOCAL_STAGE),
    tenantId: topicId,
    agentId: topicId,
    mqtt: MqttConfig,
    stateDir: z.string().min(1, 'must not be empty'),
    statusIntervalSeconds: z.number().int().min(5).max(3600).default(60),
    modems: z.array(ModemConfig).min(1, 'must list at least one modem').max(64),
    log: z
      .object({ level: z.enum(LOG_LEVELS).default('info') })
      .strict()
      .default({ level: 'info' }),
    radius: RadiusConfig.optional(),
    /** The AD connector (edge-agent/ad/config.ts); without it the agent reads no directory. */
    ad: AdConfig.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.modems.forEach((modem, i) => {
      if (seen.has(modem.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['modems', i, 'id'],
          message: `duplicate modem id "${modem.id}"`,
        });
      }
      seen.add(modem.id);
    });
  });
export type AgentConfig = z.output<typeof AgentConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `modems[1].url` style path of a zod issue. */
export function fieldPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${String(s)}` : String(s);
  }
  return out || '(root)';
}

/**
 * Validates an already-parsed config. Relative paths (stateDir, passwordFile, cert, key, ca) are resolved
 * against `baseDir`, the config file's folder.
 */
export function parseConfig(raw: unknown, baseDir = process.cwd()): AgentConfig {
  const result = AgentConfig.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  const config = result.data;
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  config.stateDir = path.resolve(baseDir, config.stateDir);
  const mqtt = config.mqtt;
  for (const key of ['passwordFile', 'cert', 'key', 'ca'] as const) {
    const resolved = resolve(mqtt[key]);
    if (resolved !== undefined) mqtt[key] = resolved;
  }
  if (config.radius?.api.authKeyFile !== undefined)
    config.radius.api.authKeyFile = path.resolve(baseDir, config.radius.api.authKeyFile);
  if (config.ad) {
    for (const d of config.ad.domains) {
      d.caFile = resolve(d.caFile);
      d.bindPasswordFile = resolve(d.bindPasswordFile);
    }
    if (config.ad.sync) config.ad.sync.keyFile = resolve(config.ad.sync.keyFile);
    config.ad.rpcKeyFile = resolve(config.ad.rpcKeyFile);
  }
  return config;
}

/** Reads and validates a config file; `.json`, `.yaml` or `.yml`. */
export async function loadConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, [`(file): cannot be read`], {
      cause: err,
    });
  }
  const ext = path.extname(file).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.json') raw = JSON.parse(text);
    // the YAML parser is loaded only for a YAML file: an agent configured in JSON never pays its memory
    else if (ext === '.yaml' || ext === '.yml') raw = (await import('yaml')).default.parse(text);
    else throw new Error(`unknown extension "${ext}"; use .json, .yaml or .yml`);
  } catch (err) {
    const message = `(file): not valid ${ext.slice(1) || 'config'}: ${(err as Error).message.split('\n')[0]}`;
    throw new ConfigError(`invalid configuration:\n  ${message}`, [message], { cause: err });
  }
  return parseConfig(raw, path.dirname(path.resolve(file)));
}

export interface MqttCredentials {
  username?: string;
  password?: string;
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
}

/** Reads the password file and certificate files the config points at. */
export async function readMqttCredentials(mqtt: MqttConfig): Promise<MqttCredentials> {
  const read = async (field: string, file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      const issue = `mqtt.${field}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
      throw new ConfigError(`invalid configuration:\n  ${issue}`, [issue], { cause: err });
    }
  };
  const out: MqttCredentials = {};
  if (mqtt.username !== undefined) out.username = mqtt.username;
  if (mqtt.password !== undefined) out.password = mqtt.password;
  if (mqtt.passwordFile !== undefined) {
    out.password = (await read('passwordFile', mqtt.passwordFile)).toString('utf8').trim();
  }
  if (mqtt.cert !== undefined || mqtt.ca !== undefined) {
    out.tls = {};
    if (mqtt.cert !== undefined) out.tls.cert = await read('cert', mqtt.cert);
    if (mqtt.key !== undefined) out.tls.key = await read('key', mqtt.key);
    if (mqtt.ca !== undefined) out.tls.ca = await read('ca', mqtt.ca);
  }
  return out;
}
