/** The web SMS provider against a real HTTP server on 127.0.0.1: what goes on the wire, and what comes back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchHttpTransport } from '../../../functions/adapters/http/fetch-transport.ts';
import { createLogger } from '../../../functions/adapters/log.ts';
import { Bulkheads } from '../../../functions/core/channels/bulkhead.ts';
import type { ChannelOutcome, DeliveryRequest } from '../../../functions/core/channels/channel.ts';
import { ProviderParamsError } from '../../../functions/core/channels/provider-params.ts';
import {
  type WebProviderDeps,
  WebSmsProvider,
  webProviderConfig,
} from '../../../functions/core/channels/web-provider.ts';
import { type HttpPeer, json, startHttpPeer } from './http-peer.ts';

let peer: HttpPeer;
beforeAll(async () => {
  peer = await startHttpPeer();
});
afterAll(async () => peer?.close());

const logLines: string[] = [];
const deps = (over: Partial<WebProviderDeps> = {}): WebProviderDeps => ({
  http: new FetchHttpTransport(),
  bulkheads: new Bulkheads(),
  log: createLogger({}, { level: 'debug', write: (l) => logLines.push(l) }),
  allowPlainHttp: true,
  allowPrivateNetworks: true,
  ...over,
});

/** Quotes, backslashes, newlines, form and URL metacharacters, and non-ASCII: everything that must be escaped. */
const NASTY = 'Code 419283 "quoted" \\ back\nnew line & amp=1 + plus # hash ? q % pct æøå 🙂 {{to}}';

let n = 0;
const request = (over: Partial<DeliveryRequest> = {}): DeliveryRequest => ({
  tenantId: 'tenant-a',
  challengeId: `challenge-${++n}`,
  step: 0,
  to: '+4520123456',
  text: NASTY,
  ...over,
});

function provider(
  params: Record<string, unknown>,
  over: Partial<WebProviderDeps> = {},
  tenantId = 'tenant-a',
) {
  return new WebSmsProvider({ tenantId, providerId: 'web-1' }, webProviderConfig(params), deps(over));
}

function lastSeen() {
  const seen = peer.seen.at(-1);
  if (!seen) throw new Error('the provider saw no request');
  return seen;
}

describe('the web SMS provider on the wire', () => {
  it('posts a JSON body with every value JSON-escaped, and reads the message id', async () => {
    peer.on('/json', json(200, { status: 'queued', messages: [{ id: 'msg-77' }] }));
    const outcome = await provider({
      url: `${peer.url}/json`,
      body: '{"recipient":"{{toDigits}}","message":"{{text}}","sender":"{{from}}","ref":"{{ref}}"}',
      from: 'Acme "IT"',
      successJsonPath: 'status',
      successJsonEquals: 'queued',
      messageIdJsonPath: 'messages[0].id',
    }).deliver(request({ challengeId: 'challenge-json', step: 2 }));
    expect(outcome).toEqual({ status: 'sent', providerMessageId: 'msg-77' });
    const seen = lastSeen();
    expect(seen.method).toBe('POST');
    expect(seen.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(seen.body)).toEqual({
      recipient: '4520123456',
      message: NASTY,
      sender: 'Acme "IT"',
      ref: 'challenge-json.2',
    });
  });

  it('sends a form body with every value form-encoded, so the text cannot add fields', async () => {
    peer.on('/form', (_req, res) => res.writeHead(200).end('OK: accepted'));
    const outcome = await provider({
      url: `${peer.url}/form`,
      contentType: 'application/x-www-form-urlencoded',
      body: 'to={{to}}&text={{text}}',
      successRegex: '^OK',
    }).deliver(request({ text: `${NASTY}&to=+19005550100` }));
    expect(outcome).toEqual({ status: 'sent' });
    const seen = lastSeen();
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    const form = new URLSearchParams(seen.body);
    expect(form.getAll('to')).toEqual(['+4520123456']);
    expect(form.get('text')).toBe(`${NASTY}&to=+19005550100`);
  });

  it('puts values into a query string percent-encoded, with no body on GET', async () => {
    peer.on('/get', (_req, res) => res.writeHead(202).end());
    const outcome = await provider({
      url: `${peer.url}/get?to={{to}}&msg={{text}}&key={{param.apiKey}}`,
      method: 'GET',
      apiKey: 'k&y=1',
      successStatus: '202',
    }).deliver(request());
    expect(outcome.status).toBe('sent');
    const seen = lastSeen();
    expect(seen.method).toBe('GET');
    expect(seen.body).toBe('');
    const query = new URL(seen.url, 'http://x').searchParams;
    expect([...query.keys()]).toEqual(['to', 'msg', 'key']);
    expect(query.get('to')).toBe('+4520123456');
    expect(query.get('msg')).toBe(NASTY);
    expect(query.get('key')).toBe('k&y=1');
  });

  it('sends Basic authentication, templated headers and PUT', async () => {
    peer.on('/put', (_req, res) => res.writeHead(201).end());
    const outcome = await provider({
      url: `${peer.url}/put`,
      method: 'PUT',
      contentType: 'text/plain',
      body: '{{text}}',
      headers: 'X-Api-Key: {{param.apiKey}}\nX-Recipient: {{to}}',
      username: 'acme',
      password: 's3cr:et',
      apiKey: 'key-123',
    }).deliver(request({ text: 'Code 123456' }));
    expect(outcome.status).toBe('sent');
    const seen = lastSeen();
    expect(seen.method).toBe('PUT');
    expect(seen.body).toBe('Code 123456');
    expect(seen.headers['x-api-key']).toBe('key-123');
    expect(seen.headers['x-recipient']).toBe('+4520123456');
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('acme:s3cr:et').toString('base64')}`);
  });

  it('refuses to put a line break into a header, and sends nothing', async () => {
    const before = peer.seen.length;
    const outcome = await provider({ url: `${peer.url}/put`, headers: 'X-Text: {{text}}' }).deliver(
      request(),
    );
    expect(outcome).toMatchObject({ status: 'failed', failure: 'config', reason: 'provider_template' });
    expect(peer.seen.length).toBe(before);
  });
});

describe('reading the answer', () => {
  const answer = async (
    status: number,
    body: unknown,
    extra: Record<string, unknown> = {},
  ): Promise<ChannelOutcome> => {
    peer.on('/answer', json(status, body));
    return provider({ url: `${peer.url}/answer`, body: '{"t":"{{text}}"}', ...extra }).deliver(request());
  };

  it('classifies statuses: 5xx and 429 are temporary, 401/403/404 are config, other 4xx are permanent', async () => {
    expect(await answer(503, {})).toMatchObject({ failure: 'temporary', reason: 'provider_unavailable' });
    expect(await answer(429, {})).toMatchObject({ failure: 'temporary', reason: 'provider_unavailable' });
    expect(await answer(401, {})).toMatchObject({ failure: 'config', reason: 'provider_auth' });
    expect(await answer(404, {})).toMatchObject({ failure: 'config', reason: 'provider_endpoint' });
    expect(await answer(400, {})).toMatchObject({ failure: 'permanent', reason: 'provider_refused' });
    expect(await answer(302, {})).toMatchObject({ failure: 'config', reason: 'provider_redirect' });
  });

  it('needs the JSON field to match, when one is configured', async () => {
    const matcher = { successJsonPath: '$.result.code', successJsonEquals: '0' };
    expect(await answer(200, { result: { code: 0 } }, matcher)).toEqual({ status: 'sent' });
    expect(await answer(200, { result: { code: 17 } }, matcher)).toMatchObject({ failure: 'permanent' });
    expect(await answer(200, 'not json', matcher)).toMatchObject({ failure: 'permanent' });
  });

  it('needs the body to match the regex, when one is configured', async () => {
    expect(await answer(200, { ok: true }, { successRegex: '"ok":true' })).toEqual({ status: 'sent' });
    expect(await answer(200, { ok: false }, { successRegex: '"ok":true' })).toMatchObject({
      failure: 'permanent',
    });
  });

  it('does not follow a redirect to a host the tenant never configured', async () => {
    const before = peer.seen.length;
    peer.on('/moved', (_req, res) => res.writeHead(307, { location: `${peer.url}/elsewhere` }).end());
    peer.on('/elsewhere', json(200, {}));
    const outcome = await provider({ url: `${peer.url}/moved`, body: '{}' }).deliver(request());
    expect(outcome).toMatchObject({ failure: 'config', reason: 'provider_redirect' });
    expect(peer.seen.slice(before).map((r) => r.url)).toEqual(['/moved']);
  });
});

describe('time limits and failures', () => {
  it('gives up after the timeout as a temporary failure, without throwing', async () => {
    peer.on('/hang', () => {}); // never answers
    const outcome = await provider({ url: `${peer.url}/hang`, body: '{}', timeoutSeconds: 1 }).deliver(
      request(),
    );
    expect(outcome).toMatchObject({ status: 'failed', failure: 'temporary', reason: 'provider_timeout' });
  });

  it("stops when the caller's signal aborts (the step's deadline)", async () => {
    peer.on('/hang', () => {});
    const controller = new AbortController();
    const pending = provider({ url: `${peer.url}/hang`, body: '{}' }).deliver(request(), controller.signal);
    controller.abort();
    expect(await pending).toMatchObject({ failure: 'temporary', reason: 'cancelled' });
  });

  it('reports an unreachable provider as temporary', async () => {
    const gone = await startHttpPeer();
    const url = gone.url;
    await gone.close();
    const outcome = await provider({ url: `${url}/x`, body: '{}' }).deliver(request());
    expect(outcome).toMatchObject({ failure: 'temporary', reason: 'provider_unreachable' });
  });

  it('refuses plain http and private addresses unless the deployment allows them (local stack only)', async () => {
    const strict = { allowPlainHttp: false, allowPrivateNetworks: false };
    expect(await provider({ url: `${peer.url}/json` }, strict).deliver(request())).toMatchObject({
      failure: 'config',
      reason: 'provider_insecure_url',
    });
    for (const host of ['127.0.0.1', '169.254.169.254', '10.1.2.3', '[::1]', 'localhost'])
      expect(
        await provider({ url: `https://${host}/send` }, { allowPrivateNetworks: false }).deliver(request()),
      ).toMatchObject({ failure: 'config', reason: 'provider_private_address' });
  });

  it("will not send another tenant's message", async () => {
    const outcome = await provider({ url: `${peer.url}/json` }).deliver(request({ tenantId: 'tenant-b' }));
    expect(outcome).toMatchObject({ failure: 'config', reason: 'provider_of_another_tenant' });
  });
});

describe('isolation between tenants', () => {
  it("a slow tenant's provider does not hold up another tenant's send", async () => {
    const release: Array<() => void> = [];
    peer.on('/slow', (_req, res) => {
      release.push(() => res.writeHead(200).end());
    });
    peer.on('/fast', (_req, res) => res.writeHead(200).end());
    const shared = deps({ bulkheads: new Bulkheads({ maxConcurrent: 4, maxQueued: 2 }) });
    const slow = new WebSmsProvider(
      { tenantId: 'tenant-a', providerId: 'slow' },
      webProviderConfig({ url: `${peer.url}/slow`, body: '{}', maxConcurrent: 1 }),
      shared,
    );
    const fast = new WebSmsProvider(
      { tenantId: 'tenant-b', providerId: 'fast' },
      webProviderConfig({ url: `${peer.url}/fast`, body: '{}', maxConcurrent: 1 }),
      shared,
    );

    const settled = new Set<number>();
    const slowSends = [0, 1, 2].map((i) =>
      slow.deliver(request({ tenantId: 'tenant-a' })).then((o) => {
        settled.add(i);
        return o;
      }),
    );
    // One call in flight and two waiting: the fourth finds the compartment full and fails over at once.
    expect(await slow.deliver(request({ tenantId: 'tenant-a' }))).toMatchObject({
      failure: 'temporary',
      reason: 'provider_busy',
    });

    // The slow provider holds its first call open ...
    await until(() => release.length === 1);
    // ... and meanwhile tenant B's provider answers at once.
    expect(await fast.deliver(request({ tenantId: 'tenant-b' }))).toEqual({ status: 'sent' });
    expect(settled.size).toBe(0);
    expect(peer.seen.filter((r) => r.url === '/slow')).toHaveLength(1);

    // The slow provider answers one at a time, in the order the sends arrived.
    for (let i = 0; i < 3; i++) {
      await until(() => release.length > 0);
      expect(settled.has(i)).toBe(false);
      release.shift()!();
      await until(() => settled.has(i));
    }
    expect(await Promise.all(slowSends)).toEqual([
      { status: 'sent' },
      { status: 'sent' },
      { status: 'sent' },
    ]);
    expect(shared.bulkheads.size).toBe(0);
  });
});

describe('checking a tenant’s definition', () => {
  const issuesOf = (params: Record<string, unknown>) => {
    try {
      webProviderConfig(params);
      return [];
    } catch (error) {
      if (error instanceof ProviderParamsError) return error.issues.map((i) => i.param);
      throw error;
    }
  };

  it('names each problem by its parameter', () => {
    expect(issuesOf({})).toEqual(['url']);
    expect(issuesOf({ url: 'https://x.example/{{nope}}' })).toEqual(['url']);
    expect(issuesOf({ url: 'https://x.example', body: '{"to": {{to}}}' })).toEqual(['body']);
    expect(issuesOf({ url: 'https://x.example', successRegex: '(a+)+$' })).toEqual(['successRegex']);
    expect(issuesOf({ url: 'https://x.example', successStatus: '2xx' })).toEqual(['successStatus']);
    expect(issuesOf({ url: 'https://x.example', successJsonPath: 'status' })).toEqual(['successJsonEquals']);
    expect(issuesOf({ url: 'https://x.example', headers: 'Bad Header' })).toEqual(['headers']);
    expect(issuesOf({ url: 'https://x.example', colour: 'blue' })).toEqual(['colour']);
    expect(issuesOf({ url: 'https://x.example', timeoutSeconds: 600 })).toEqual(['timeoutSeconds']);
    expect(issuesOf({ url: 'ftp://x.example' })).toEqual(['url']);
    expect(issuesOf({ url: 'https://x.example', method: 'GET', body: 'x' })).toEqual(['body']);
  });

  it('describes its parameters for the console, secrets marked', () => {
    const specs = WebSmsProvider.parameters();
    expect(specs.filter((s) => s.secret).map((s) => s.name)).toEqual(['password', 'apiKey', 'token']);
    expect(specs.find((s) => s.name === 'url')).toMatchObject({ type: 'url', required: true });
  });
});

it('never logs the message, the number or a secret', () => {
  const all = logLines.join('\n');
  expect(logLines.length).toBeGreaterThan(0);
  for (const leak of ['419283', '4520123456', 'key-123', 's3cr', 'k&y=1']) expect(all).not.toContain(leak);
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
}
