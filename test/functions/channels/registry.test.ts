/**
 * The channel registry: one unit per kind named in the contracts, and the rule semantics, labels and masks
 * every other module reads from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_KINDS, PROVIDER_KIND_NAMES } from '../../../functions/contracts/channels.ts';
import { describeProviderKinds } from '../../../functions/core/channels/provider-kinds.ts';
import {
  CHANNEL_UNITS,
  deliveryChannel,
  deliveryRoute,
  maskedDestination,
  ruleIssues,
} from '../../../functions/core/channels/registry.ts';
import { type DirectoryFixture, startDirectory } from '../../support/directory.ts';

describe('the channel registry', () => {
  it('has one unit for each channel kind the contracts name, under that name', () => {
    expect(Object.keys(CHANNEL_UNITS).sort()).toEqual([...CHANNEL_KINDS].sort());
    for (const kind of CHANNEL_KINDS) expect(CHANNEL_UNITS[kind].kind).toBe(kind);
  });

  it('offers a provider kind for exactly the channels whose rules name a provider', () => {
    const routed = CHANNEL_KINDS.filter((k) => CHANNEL_UNITS[k].route === 'provider');
    expect(routed).toEqual([...PROVIDER_KIND_NAMES]);
    expect(describeProviderKinds().map((d) => [d.kind, d.channel, d.title])).toEqual(
      PROVIDER_KIND_NAMES.map((k) => [k, k, CHANNEL_UNITS[k].title]),
    );
  });

  it('labels each step as the person sees it, and names a route-less step by its channel', () => {
    expect(deliveryChannel({ channel: 'sms_modem' })).toBe('sms');
    expect(deliveryChannel({ channel: 'sms_web' })).toBe('sms');
    expect(deliveryChannel({ channel: 'voice' })).toBe('voice');
    expect(deliveryChannel({ channel: 'email' })).toBe('email');
    expect(deliveryChannel({ channel: 'totp' })).toBe('totp');
    expect(deliveryRoute({ channel: 'totp', route: null })).toBe('totp');
    expect(deliveryRoute({ channel: 'sms_web', route: 'gw' })).toBe('gw');
  });

  it('masks a destination by what the channel reaches, and shows none for an app', () => {
    expect(maskedDestination({ channel: 'voice' }, '+4520123456')).not.toContain('20123456');
    expect(maskedDestination({ channel: 'email' }, 'alice@corp.example.test')).toBe(
      'a••••@corp.example.test',
    );
    expect(maskedDestination({ channel: 'totp' }, 'alice')).toBeUndefined();
  });

  it('says where a rule’s target or route does not fit its channel', () => {
    expect(ruleIssues({ channel: 'sms_modem', target: 'secondary', route: 'carrier-a' })).toEqual([]);
    expect(ruleIssues({ channel: 'email', target: 'email', route: 'mail' })).toEqual([]);
    expect(ruleIssues({ channel: 'totp', target: 'primary', route: null })).toEqual([]);
    expect(ruleIssues({ channel: 'email', target: 'primary', route: 'mail' })).toEqual([
      { field: 'target', message: expect.stringContaining('email target') },
    ]);
    expect(ruleIssues({ channel: 'voice', target: 'email', route: null }).map((i) => i.field)).toEqual([
      'target',
      'route',
    ]);
    expect(ruleIssues({ channel: 'totp', target: 'primary', route: 'x' })).toEqual([
      { field: 'route', message: 'totp rules have no route' },
    ]);
  });
});

describe('rules through the admin API', () => {
  let t: DirectoryFixture;
  beforeAll(async () => {
    t = await startDirectory();
  });
  afterAll(async () => t?.close());
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(t.admin, method, path, t.seed.keys.admin, body);

  it('refuses a rule that does not fit its channel, naming the rule and field, on create and on update', async () => {
    expect((await admin('POST', '/v1/modem-groups', { name: 'carrier-a' })).status).toBe(201);
    const ok = { channel: 'sms_modem', target: 'primary', route: 'carrier-a', timeoutSeconds: 30 };
    const created = await admin('POST', '/v1/load-balancing-policies', { name: 'p', rules: [ok] });
    expect(created.status).toBe(201);
    const totpWithRoute = { ...ok, channel: 'totp' };
    const refused = await admin('POST', '/v1/load-balancing-policies', {
      name: 'p',
      rules: [ok, totpWithRoute],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toEqual({
      code: 'invalid_request',
      message: 'rules.1.route: totp rules have no route',
    });
    const update = await admin('PUT', `/v1/load-balancing-policies/${created.body.id}`, {
      name: 'p',
      rules: [{ ...ok, target: 'email' }],
    });
    expect(update.status).toBe(400);
    expect(update.body.error.message).toMatch(/^rules\.0\.target: /);
    expect((await admin('GET', `/v1/load-balancing-policies/${created.body.id}`)).body.rules).toEqual([ok]);
  });
});
