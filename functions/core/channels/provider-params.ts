/**
 * What each provider kind asks for, so the console can render a form for it (like privacyIDEA's
 * `parameters()`), and how a tenant's values are checked, sealed at rest, opened for a send and masked for
 * any API output. Values of parameters marked `secret` exist in plain text only in memory, while sending.
 */
import type { CredentialCipher, CredentialContext } from '../ports/credentials.ts';

export type ParameterType = 'string' | 'text' | 'url' | 'number' | 'boolean' | 'enum';
export type ParamValue = string | number | boolean;

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  required: boolean;
  /** Sealed with the credential cipher at rest; masked in every API answer. */
  secret?: boolean;
  description: string;
  default?: ParamValue;
  /** The allowed values of an `enum`. */
  values?: readonly string[];
  /** Bounds of a `number`. */
  min?: number;
  max?: number;
}

/** What an API answer shows instead of a secret that is set. Sent back unchanged, it keeps the stored one. */
export const SECRET_MASK = '••••••••';

/**
 * Parameters as stored: the same flat shape as the plain ones (and as a tenant's provider object), with
 * each secret's value replaced by the cipher's opaque string. Which values are sealed is decided by the
 * spec, never by how a value looks, so a plain value cannot pass itself off as sealed or the reverse.
 */
export type StoredParams = Record<string, ParamValue>;
export type PlainParams = Record<string, ParamValue>;

export interface ParamIssue {
  param: string;
  message: string;
}

export class ProviderParamsError extends Error {
  constructor(readonly issues: ParamIssue[]) {
    super(`Invalid provider parameters: ${issues.map((i) => `${i.param}: ${i.message}`).join('; ')}`);
    this.name = 'ProviderParamsError';
  }
}

/**
 * Checks raw input against the spec and returns typed values with defaults filled in. Unknown names are
 * refused, so a typo does not silently become a parameter that nothing reads.
 */
export function validateParams(specs: readonly ParameterSpec[], raw: Record<string, unknown>): PlainParams {
  const issues: ParamIssue[] = [];
  const out: PlainParams = {};
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(raw))
    if (!known.has(name)) issues.push({ param: name, message: 'is not a parameter of this provider kind' });
  for (const spec of specs) {
    const value = raw[spec.name];
    if (value === undefined || value === null || value === '') {
      if (spec.default !== undefined) out[spec.name] = spec.default;
      else if (spec.required) issues.push({ param: spec.name, message: 'is required' });
      continue;
    }
    const issue = checkValue(spec, value);
    if (issue) issues.push({ param: spec.name, message: issue });
    else out[spec.name] = value as ParamValue;
  }
  if (issues.length > 0) throw new ProviderParamsError(issues);
  return out;
}

function checkValue(spec: ParameterSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
    case 'text':
    case 'url':
      if (typeof value !== 'string') return 'must be a string';
      // The admin API takes at most 2048 characters per value; params checked elsewhere are held to it too.
      if (value.length > 2048) return 'is too long';
      if (spec.type === 'url' && !URL.canParse(value.replace(/\{\{[^}]*\}\}/g, 'x'))) return 'is not a URL';
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'enum':
      return typeof value === 'string' && (spec.values ?? []).includes(value)
        ? undefined
        : `must be one of ${(spec.values ?? []).join(', ')}`;
  }
}

/**
 * Seals the secret values for storage. A secret sent as `SECRET_MASK` (the console echoing what it was
 * shown) keeps the value already stored, so an admin can edit the URL without retyping the password.
 */
export async function sealParams(
  specs: readonly ParameterSpec[],
  params: PlainParams,
  cipher: CredentialCipher,
  context: CredentialContext,
  previous: StoredParams = {},
): Promise<StoredParams> {
  const out: StoredParams = {};
  for (const [name, value] of Object.entries(params)) {
    const spec = specs.find((s) => s.name === name);
    if (!spec?.secret) {
      out[name] = value;
      continue;
    }
    const before = previous[name];
    if (value === SECRET_MASK) {
      if (typeof before !== 'string' || before === '')
        throw new ProviderParamsError([{ param: name, message: 'has no stored value to keep; enter it' }]);
      out[name] = before;
    } else {
      out[name] = await cipher.encrypt(String(value), context);
    }
  }
  return out;
}

/** Opens the secrets for one send. The result must stay in memory: never log or return it. */
export async function openParams(
  specs: readonly ParameterSpec[],
  stored: StoredParams,
  cipher: CredentialCipher,
  context: CredentialContext,
): Promise<PlainParams> {
  const out: PlainParams = {};
  for (const [name, value] of Object.entries(stored)) {
    const spec = specs.find((s) => s.name === name);
    if (spec?.secret) {
      const plain = await cipher.decrypt(String(value), context);
      out[name] = spec.type === 'number' ? Number(plain) : spec.type === 'boolean' ? plain === 'true' : plain;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/**
 * The parameters as any API may show them: every secret that is set becomes `SECRET_MASK`. Which ones are
 * secret is read from the spec, not from the value, so neither a sealed string nor a plain one is shown.
 */
export function maskParams(
  specs: readonly ParameterSpec[],
  params: StoredParams,
): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(params))
    out[name] = specs.find((s) => s.name === name)?.secret === true ? SECRET_MASK : value;
  return out;
}
