import { IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ROUTES } from '../../cdk/functions.ts';
import { FetchHttpTransport } from '../../functions/adapters/http/fetch-transport.ts';
import { IotAgentIdentities } from '../../functions/adapters/iot/iot-identities.ts';
import { Bulkheads } from '../../functions/core/channels/bulkhead.ts';
import { ProviderChannels } from '../../functions/core/channels/provider-kinds.ts';
import { buildAdminApp } from '../../functions/deps.ts';
import { routeByFunction } from '../../functions/local/http-router.ts';
import { buildEnrolmentLinkRoutes, buildSelfServiceApp } from '../../functions/selfservice-deps.ts';
import { TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let selfservice: ReturnType<typeof buildSelfServiceApp>;
/** The admin app as the stacks build it: with the enrolment-link routes, which need e-mail. */
let admin: ReturnType<typeof buildAdminApp>;
beforeAll(async () => {
  t = await startDirectory();
  selfservice = buildSelfServiceApp({
    dynamo: t.dynamo,
    table: TABLE,
    keys: t.keys,
    log: t.log,
    sqs: t.sqs,
    dispatchQueueUrl: t.queueUrl,
    // Only which routes it serves is looked at here; no request reaches an agent.
    rpcPublisher: { publishRequest: async () => {} },
  });
  const ctx = { dynamo: t.dynamo, table: TABLE, log: t.log, cipher: t.cipher };
  const providers = new ProviderChannels({
    cipher: t.cipher,
    http: new FetchHttpTransport(),
    bulkheads: new Bulkheads(),
    log: t.log,
  });
  admin = buildAdminApp({
    ...ctx,
    // As the Lambda entry builds it; IoT Core is never called here.
    identities: new IotAgentIdentities(new IoTClient({ region: 'eu-west-1' }), {
      policyName: 'test-edge-agent',
      dataEndpoint: 'iot.invalid',
    }),
    enrolmentLinks: buildEnrolmentLinkRoutes({
      ...ctx,
      portalUrl: () => 'http://127.0.0.1:1/portal',
      channelFor: (p) => providers.channelFor(p),
    }),
  });
});
afterAll(async () => t?.close());

/** hono's `:param` routes in API Gateway's `{param}` syntax. */
const gatewayPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

describe('the route table', () => {
  it('lists every route the sync, admin and operator apps serve, and nothing they do not', () => {
    const served = (fn: string, app: { routes: Array<{ method: string; path: string }> }) =>
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${fn} ${r.method} ${gatewayPath(r.path).replace(/\/$/, '')}`);
    const mine = ['sync', 'admin', 'operator', 'selfservice'];
    const apps = [
      served('sync', t.sync),
      served('admin', admin),
      served('operator', t.operator),
      served('selfservice', selfservice),
    ].flat();
    const table = HTTP_ROUTES.filter((r) => mine.includes(r.fn)).map((r) => `${r.fn} ${r.method} ${r.path}`);
    expect(apps.sort()).toEqual(table.sort());
    // The auth app serves at least what the table sends it.
    const auth = served('auth', t.app);
    for (const r of HTTP_ROUTES.filter((r) => r.fn === 'auth'))
      expect(auth).toContain(`auth ${r.method} ${r.path}`);
  });

  it('sends each request locally to the function API Gateway would', async () => {
    const fetch = routeByFunction({
      auth: t.app,
      sync: t.sync,
      admin: t.admin,
      operator: t.operator,
      selfservice,
    });
    const get = (path: string, key: string) =>
      fetch(new Request(`http://local${path}`, { headers: { authorization: `Bearer ${key}` } }));
    expect((await get('/v1/users', t.seed.keys.admin)).status).toBe(200);
    expect((await get('/v1/operator/tenants', t.seed.keys.operator)).status).toBe(200);
    expect((await get('/v1/sync/runs', t.seed.keys.sync)).status).toBe(200);
    // The portal's API answers a missing session itself (the auth app would 404 it).
    const profile = await get('/v1/self/profile', 'ps.acme.none');
    expect([profile.status, ((await profile.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'unauthorized',
    ]);
    const web = { fetch: (r: Request) => new Response(`web ${new URL(r.url).pathname}`) };
    const pages = routeByFunction({ auth: t.app, web });
    for (const path of ['/admin', '/admin/users/alice', '/portal', '/portal/a/b/c', '/assets/console.x.js'])
      expect(await (await pages(new Request(`http://local${path}`))).text()).toBe(`web ${path}`);
    const form = await pages(new Request('http://local/admin/sign-in', { method: 'POST' }));
    expect(await form.text()).toBe('web /admin/sign-in');
    // Greedy `{proxy+}` still needs a segment, and a page section is not a prefix match on its name.
    expect((await pages(new Request('http://local/administrator'))).status).toBe(404);
    expect((await pages(new Request('http://local/assets/x.js', { method: 'POST' }))).status).toBe(404);
    const unknown = await get('/v1/nothing-here', t.seed.keys.admin);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'not_found', message: 'No such route.' } });
  });
});
