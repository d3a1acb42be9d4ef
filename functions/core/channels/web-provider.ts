/**
 * A web SMS provider the tenant defines: URL, method, headers and body are templates over the message,
 * and a success matcher reads the provider's answer. Each call has a strict timeout and runs inside the
 * (tenant, provider) bulkhead described in `bulkhead.ts`, so a slow provider costs only its own tenant.
 */
import type { Logger } from '../ports/log.ts';
import { type Bulkhead, BulkheadFullError, type Bulkheads } from './bulkhead.ts';
import {
  type Channel,
  type ChannelKind,
  type ChannelOutcome,
  type DeliveryRequest,
  failed,
} from './channel.ts';
import {
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  HttpTransportError,
} from './http.ts';
import { isIpLiteral, isLocalhostName, isPublicAddress } from './private-address.ts';
import {
  type ParameterSpec,
  type PlainParams,
  ProviderParamsError,
  validateParams,
} from './provider-params.ts';
import {
  type Escaping,
  placeholders,
  renderTemplate,
  renderUrl,
  TemplateError,
  type TemplateValues,
} from './template.ts';

export const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** The parameters of the `http` provider kind, in the order a form shows them. */
export const WEB_PROVIDER_PARAMETERS: readonly ParameterSpec[] = [
  {
    name: 'url',
    type: 'url',
    required: true,
    description:
      'The endpoint. Placeholders such as {{to}} are URL-encoded, e.g. https://sms.example/send?to={{to}}',
  },
  {
    name: 'method',
    type: 'enum',
    required: false,
    values: ['POST', 'GET', 'PUT'],
    default: 'POST',
    description: 'HTTP method.',
  },
  {
    name: 'contentType',
    type: 'enum',
    required: false,
    values: CONTENT_TYPES,
    default: 'application/json',
    description:
      'How the body is encoded; placeholders are escaped to match (JSON string, form field or plain).',
  },
  {
    name: 'body',
    type: 'text',
    required: false,
    description:
      'Body template, e.g. {"to":"{{to}}","text":"{{text}}"}. Placeholders: {{to}}, {{toDigits}}, {{text}}, {{from}}, {{ref}} (one id per challenge step), {{param.NAME}}.',
  },
  {
    name: 'headers',
    type: 'text',
    required: false,
    description:
      'Extra headers, one "Name: value" per line. Values may use placeholders, e.g. X-Api-Key: {{param.apiKey}}',
  },
  {
    name: 'from',
    type: 'string',
    required: false,
    description: 'Sender id or number, available as {{from}}.',
  },
  { name: 'username', type: 'string', required: false, description: 'User for HTTP Basic authentication.' },
  {
    name: 'password',
    type: 'string',
    required: false,
    secret: true,
    description: 'Password for HTTP Basic authentication.',
  },
  {
    name: 'apiKey',
    type: 'string',
    required: false,
    secret: true,
    description: 'An API key, available as {{param.apiKey}}.',
  },
  {
    name: 'token',
    type: 'string',
    required: false,
    secret: true,
    description: 'A bearer or other token, available as {{param.token}}.',
  },
  {
    name: 'successStatus',
    type: 'string',
    required: false,
    default: '200-299',
    description: 'HTTP statuses that can mean success: codes and ranges, e.g. "200,201" or "200-299".',
  },
  {
    name: 'successJsonPath',
    type: 'string',
    required: false,
    description:
      'A field of the JSON answer that must equal successJsonEquals, e.g. "status" or "messages[0].status".',
  },
  {
    name: 'successJsonEquals',
    type: 'string',
    required: false,
    description: 'The value successJsonPath must have.',
  },
  {
    name: 'successRegex',
    type: 'string',
    required: false,
    description: 'A regular expression the answer body must match, e.g. "^OK".',
  },
  {
    name: 'messageIdJsonPath',
    type: 'string',
    required: false,
    description: 'Where the provider\'s message id is in the JSON answer, e.g. "messages[0].id".',
  },
  {
    name: 'timeoutSeconds',
    type: 'number',
    required: false,
    default: 10,
    min: 1,
    max: 30,
    description: 'Time allowed for one call.',
  },
  {
    name: 'maxConcurrent',
    type: 'number',
    required: false,
    default: 4,
    min: 1,
    max: 32,
    description: 'Calls in flight to this provider at once; more wait briefly, then fail over.',
  },
];

export interface SuccessMatcher {
  statuses: Array<[number, number]>;
  jsonPath?: string;
  jsonEquals?: string;
  regex?: RegExp;
  messageIdPath?: string;
}

export interface WebProviderConfig {
  url: string;
  method: HttpMethod;
  contentType: ContentType;
  body?: string;
  headers: Array<[string, string]>;
  from?: string;
  /** Every parameter, secrets included, for `{{param.NAME}}`. */
  params: PlainParams;
  success: SuccessMatcher;
  timeoutMs: number;
  maxConcurrent: number;
}

const TEMPLATE_NAMES = new Set(['to', 'toDigits', 'text', 'from', 'ref']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** "200-299,302" → [[200, 299], [302, 302]]. */
export function parseStatusSet(spec: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (!m) throw new TemplateError(`"${part}" is not a status code or range.`);
    const lo = Number(m[1]);
    const hi = Number(m[2] ?? m[1]);
    if (lo < 100 || hi > 599 || lo > hi) throw new TemplateError(`"${part}" is not a valid status range.`);
    out.push([lo, hi]);
  }
  if (out.length === 0) throw new TemplateError('At least one success status is needed.');
  return out;
}

/** Reads `a.b[0].c` (a leading `$.` is allowed) from parsed JSON. */
export function readJsonPath(value: unknown, path: string): unknown {
  const steps = path
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '');
  let current: unknown = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    // Own properties only: a path such as "constructor" must not reach into prototypes.
    if (!Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * Tenants write the success regex, and it runs on text a third party controls. Nested quantifiers are the
 * usual source of catastrophic backtracking, so they are refused, and the text is capped.
 */
function compileSafeRegex(source: string): RegExp {
  if (source.length > 200) throw new TemplateError('The success regex is too long (200 characters at most).');
  if (/\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/.test(source))
    throw new TemplateError('The success regex nests repetitions, which can take forever to match.');
  try {
    return new RegExp(source);
  } catch {
    throw new TemplateError('The success regex is not a valid regular expression.');
  }
}
const REGEX_INPUT_LIMIT = 16 * 1024;

function parseHeaders(text: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [index, line] of (text ?? '').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name))
      // The line itself is not echoed: it may hold a credential typed without its colon.
      throw new TemplateError(`Line ${index + 1} is not a "Name: value" header line.`);
    out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

/**
 * Checks a tenant's parameters and turns them into a config: every placeholder must be known, the status
 * set and regex must parse, and a JSON body must render to valid JSON. Throws `ProviderParamsError` with
 * one issue per problem, which the console shows beside the field.
 */
export function webProviderConfig(
  raw: Record<string, unknown>,
  specs: readonly ParameterSpec[] = WEB_PROVIDER_PARAMETERS,
): WebProviderConfig {
  const params = validateParams(specs, raw);
  const str = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
  const issues: Array<{ param: string; message: string }> = [];
  const attempt = <T>(param: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      issues.push({ param, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };

  const url = str('url')!;
  const method = (str('method') ?? 'POST') as HttpMethod;
  const contentType = (str('contentType') ?? 'application/json') as ContentType;
  const headers = attempt('headers', () => parseHeaders(str('headers'))) ?? [];
  const checkNames = (param: string, template: string) => {
    for (const name of placeholders(template)) {
      const known = name.startsWith('param.') ? name.slice(6) in params : TEMPLATE_NAMES.has(name);
      if (!known) issues.push({ param, message: `{{${name}}} is not a known placeholder` });
    }
  };
  checkNames('url', url);
  if (str('body')) checkNames('body', str('body')!);
  for (const [, value] of headers) checkNames('headers', value);
  attempt('url', () => {
    const u = new URL(url.replace(/\{\{[^}]*\}\}/g, 'x'));
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('must be an http(s) URL');
  });
  if (method === 'GET' && str('body')) issues.push({ param: 'body', message: 'a GET request has no body' });

  const success: SuccessMatcher = {
    statuses: attempt('successStatus', () => parseStatusSet(str('successStatus') ?? '200-299')) ?? [],
  };
  if (str('successJsonPath')) {
    success.jsonPath = str('successJsonPath')!;
    if (str('successJsonEquals') === undefined)
      issues.push({ param: 'successJsonEquals', message: 'is required with successJsonPath' });
    else success.jsonEquals = str('successJsonEquals')!;
  }
  if (str('successRegex')) {
    const regex = attempt('successRegex', () => compileSafeRegex(str('successRegex')!));
    if (regex) success.regex = regex;
  }
  if (str('messageIdJsonPath')) success.messageIdPath = str('messageIdJsonPath')!;

  const config: WebProviderConfig = {
    url,
    method,
    contentType,
    headers,
    params,
    success,
    timeoutMs: Number(params.timeoutSeconds ?? 10) * 1000,
    maxConcurrent: Number(params.maxConcurrent ?? 4),
    ...(str('body') !== undefined && { body: str('body')! }),
    ...(str('from') !== undefined && { from: str('from')! }),
  };
  if (issues.length === 0 && contentType === 'application/json' && config.body !== undefined)
    attempt('body', () => {
      // Sample values with every character JSON must escape: if this parses, any message will.
      const sample = buildRequest(config, { to: '+4520123456', text: 'a"b\\c\nd\u0001' });
      JSON.parse(sample.body ?? '');
    });
  if (issues.length > 0) throw new ProviderParamsError(issues);
  return config;
}

export interface OutgoingMessage {
  to: string;
  text: string;
  /**
   * `{{ref}}`: the same for every attempt of one step (`<challengeId>.<step>`), so a provider that
   * deduplicates by client reference sends a retried step only once.
   */
  ref?: string;
}

/** The values placeholders take. `{{toDigits}}` is the number without `+`, as many providers want it. */
export function templateValues(config: WebProviderConfig, message: OutgoingMessage): TemplateValues {
  const values: TemplateValues = {
    ref: message.ref ?? '',
    to: message.to,
    toDigits: message.to.replace(/^\+/, ''),
    text: message.text,
    from: config.from ?? '',
  };
  for (const [name, value] of Object.entries(config.params)) values[`param.${name}`] = String(value);
  return values;
}

const escapingFor: Record<ContentType, Escaping> = {
  'application/json': 'json',
  'application/x-www-form-urlencoded': 'form',
  'text/plain': 'raw',
};

/** The HTTP request for one message: a pure function, so what goes on the wire is testable on its own. */
export function buildRequest(config: WebProviderConfig, message: OutgoingMessage): HttpRequest {
  const values = templateValues(config, message);
  const headers: Record<string, string> = {};
  if (config.body !== undefined) headers['content-type'] = `${config.contentType}; charset=utf-8`;
  const user = config.params.username;
  if (typeof user === 'string' && user !== '')
    headers.authorization = `Basic ${Buffer.from(`${user}:${String(config.params.password ?? '')}`).toString('base64')}`;
  for (const [name, value] of config.headers)
    headers[name.toLowerCase()] = renderTemplate(value, values, 'header');
  return {
    url: renderUrl(config.url, values),
    method: config.method,
    headers,
    ...(config.body !== undefined && {
      body: renderTemplate(config.body, values, escapingFor[config.contentType]),
    }),
  };
}

/** Reads the provider's answer with the success matcher. */
export function classifyResponse(success: SuccessMatcher, response: HttpResponse): ChannelOutcome {
  const { status } = response;
  if (!success.statuses.some(([lo, hi]) => status >= lo && status <= hi)) {
    if (status === 401 || status === 403)
      return failed('config', 'provider_auth', `The provider answered ${status}.`);
    if (status === 404 || status === 405)
      return failed('config', 'provider_endpoint', `The provider answered ${status}.`);
    if (status === 408 || status === 425 || status === 429 || status >= 500)
      return failed('temporary', 'provider_unavailable', `The provider answered ${status}.`);
    if (status >= 300 && status < 400)
      return failed('config', 'provider_redirect', `The provider redirected (${status}).`);
    return failed('permanent', 'provider_refused', `The provider answered ${status}.`);
  }
  let json: unknown;
  const needsJson = success.jsonPath !== undefined || success.messageIdPath !== undefined;
  if (needsJson) {
    try {
      json = JSON.parse(response.body);
    } catch {
      if (success.jsonPath !== undefined)
        return failed(
          'permanent',
          'provider_refused',
          'The answer is not JSON, so the success field cannot be read.',
        );
    }
  }
  if (success.jsonPath !== undefined) {
    const actual = readJsonPath(json, success.jsonPath);
    if (actual === undefined || String(actual) !== success.jsonEquals)
      return failed(
        'permanent',
        'provider_refused',
        `The answer's ${success.jsonPath} is not "${success.jsonEquals}".`,
      );
  }
  if (success.regex && !success.regex.test(response.body.slice(0, REGEX_INPUT_LIMIT)))
    return failed('permanent', 'provider_refused', 'The answer does not match the success pattern.');
  const id = success.messageIdPath !== undefined ? readJsonPath(json, success.messageIdPath) : undefined;
  return typeof id === 'string' || typeof id === 'number'
    ? { status: 'sent', providerMessageId: String(id) }
    : { status: 'sent' };
}

/**
 * A host that is plainly not on the public internet: an IP literal that is not public, or a `localhost` name
 * (a trailing dot is the same name). Names are checked again by the transport after DNS, where they count.
 */
function isPrivateHost(host: string): boolean {
  return isLocalhostName(host) || (isIpLiteral(host) && !isPublicAddress(host));
}

export interface WebProviderDeps {
  http: HttpTransport;
  bulkheads: Bulkheads;
  log?: Logger;
  /**
   * Local stacks and tests call providers on 127.0.0.1 over plain HTTP. A deployment leaves these off,
   * so a tenant cannot point its "provider" at the cloud's metadata or internal services, or send
   * credentials in the clear. The transport enforces the first on the address it connects to.
   */
  allowPrivateNetworks?: boolean;
  allowPlainHttp?: boolean;
}

export interface ProviderIdentity {
  tenantId: string;
  providerId: string;
}

/** A web SMS provider of one tenant. Build it per send (cheap) or keep it; the bulkhead state is in `Bulkheads`. */
export class WebSmsProvider implements Channel {
  readonly kind: ChannelKind = 'sms_web';

  static parameters(): readonly ParameterSpec[] {
    return WEB_PROVIDER_PARAMETERS;
  }

  constructor(
    readonly identity: ProviderIdentity,
    readonly config: WebProviderConfig,
    protected readonly deps: WebProviderDeps,
  ) {}

  /** The text as this channel sends it; the voice provider reads it out instead. */
  protected messageText(text: string): string {
    return text;
  }

  async deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<ChannelOutcome> {
    const { tenantId, providerId } = this.identity;
    const ctx = {
      tenantId,
      providerId,
      challengeId: request.challengeId,
      step: request.step,
      channel: this.kind,
    };
    if (request.tenantId !== tenantId) return failed('config', 'provider_of_another_tenant');

    let httpRequest: HttpRequest;
    try {
      httpRequest = buildRequest(this.config, {
        to: request.to,
        text: this.messageText(request.text),
        ref: `${request.challengeId}.${request.step}`,
      });
    } catch (error) {
      if (error instanceof TemplateError) return failed('config', 'provider_template', error.message);
      throw error;
    }
    const target = httpRequest.url;
    if (target.protocol !== 'https:' && !(target.protocol === 'http:' && this.deps.allowPlainHttp))
      return failed('config', 'provider_insecure_url', 'The provider URL must use https.');
    if (isPrivateHost(target.hostname) && !this.deps.allowPrivateNetworks)
      return failed('config', 'provider_private_address', 'The provider URL points into a private network.');

    // The step's own deadline (from the caller) and this call's strict timeout, whichever comes first;
    // the timeout covers the wait for a bulkhead slot too.
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const callSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const bulkhead: Bulkhead = this.deps.bulkheads.for(`${tenantId}/${providerId}`, {
      maxConcurrent: this.config.maxConcurrent,
    });

    let outcome: ChannelOutcome;
    try {
      const outgoing = this.deps.allowPrivateNetworks
        ? { ...httpRequest, allowPrivateNetworks: true }
        : httpRequest;
      const response = await bulkhead.run(() => this.deps.http.send(outgoing, callSignal), callSignal);
      outcome = classifyResponse(this.config.success, response);
      this.deps.log?.info('web provider answered', {
        ...ctx,
        host: target.host,
        status: response.status,
        outcome: outcome.status,
      });
    } catch (error) {
      outcome = this.failureOf(error, callSignal);
      this.deps.log?.warn('web provider call failed', { ...ctx, host: target.host, ...outcome });
    }
    return outcome;
  }

  private failureOf(error: unknown, signal: AbortSignal): ChannelOutcome {
    if (error instanceof BulkheadFullError)
      return failed('temporary', 'provider_busy', 'Too many messages are waiting for this provider.');
    if (error instanceof HttpTransportError && error.kind === 'private_address')
      return failed('config', 'provider_private_address', 'The provider address is in a private network.');
    if (error instanceof HttpTransportError && error.kind === 'network')
      return failed('temporary', 'provider_unreachable', 'The provider could not be reached.');
    if (signal.aborted) {
      const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
      return timedOut
        ? failed('temporary', 'provider_timeout', `No answer within ${this.config.timeoutMs / 1000} s.`)
        : failed('temporary', 'cancelled', 'The step was cancelled.');
    }
    return failed('temporary', 'provider_error', error instanceof Error ? error.name : 'unknown error');
  }
}
