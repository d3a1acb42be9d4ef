/** From an admin's input to a sealed, stored provider to a working channel, against real local peers. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../../functions/adapters/credentials/key-file-cipher.ts';
import { FetchHttpTransport } from '../../../functions/adapters/http/fetch-transport.ts';
import { pooledSmtpTransports } from '../../../functions/adapters/mail/smtp-transport-factory.ts';
import { Bulkheads } from '../../../functions/core/channels/bulkhead.ts';
import type { DeliveryRequest } from '../../../functions/core/channels/channel.ts';
import {
  describeProviderKinds,
  ProviderChannels,
  type ProviderDefinition,
  prepareProvider,
} from '../../../functions/core/channels/provider-kinds.ts';
import {
  maskParams,
  ProviderParamsError,
  SECRET_MASK,
} from '../../../functions/core/channels/provider-params.ts';
import { CHANNEL_UNITS } from '../../../functions/core/channels/registry.ts';
import type { CredentialCipher } from '../../../functions/core/ports/credentials.ts';
import { type HttpPeer, json, startHttpPeer } from './http-peer.ts';

const key = new KeyFileCredentialCipher(Buffer.alloc(32, 5));
let decrypts = 0;
const cipher: CredentialCipher = {
  encrypt: (p, c) => key.encrypt(p, c),
  decrypt: (s, c) => {
    decrypts++;
    return key.decrypt(s, c);
  },
};

let peer: HttpPeer;
let smtp: SMTPServer;
let smtpPort: number;
const mails: Array<{ to: string[]; raw: string }> = [];
beforeAll(async () => {
  peer = await startHttpPeer();
  peer.on('/sms', json(200, { id: 'p-1' }));
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  smtpTransports.close();
  await peer?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

const now = { t: 0 };
const smtpTransports = pooledSmtpTransports();
const channels = new ProviderChannels({
  cipher,
  http: new FetchHttpTransport(),
  bulkheads: new Bulkheads(),
  smtp: smtpTransports,
  allowPlainHttp: true,
  allowPrivateNetworks: true,
  openCacheMs: 60_000,
  now: () => now.t,
});
const request = (to: string): DeliveryRequest => ({
  tenantId: 't1',
  challengeId: 'c1',
  step: 0,
  to,
  text: 'Code 419283',
});

describe('provider kinds', () => {
  it('describe themselves for the console', () => {
    const kinds = describeProviderKinds();
    expect(kinds.map((k) => [k.kind, k.channel])).toEqual([
      ['sms_web', 'sms_web'],
      ['voice', 'voice'],
      ['email', 'email'],
    ]);
    for (const k of kinds) for (const p of k.parameters) expect(p.description.length).toBeGreaterThan(5);
    expect(kinds.find((k) => k.kind === 'email')?.parameters.find((p) => p.name === 'password')?.secret).toBe(
      true,
    );
  });

  it('refuses an unknown kind and bad parameters, naming the field', async () => {
    await expect(
      prepareProvider({ tenantId: 't1', id: 'p', kind: 'fax', params: {} }, cipher),
    ).rejects.toBeInstanceOf(ProviderParamsError);
    const error = await prepareProvider(
      {
        tenantId: 't1',
        id: 'p',
        kind: 'sms_web',
        params: { url: 'https://x.example', body: '{"a":{{text}}}' },
      },
      cipher,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderParamsError);
    expect((error as ProviderParamsError).issues).toEqual([{ param: 'body', message: expect.any(String) }]);
    await expect(
      prepareProvider({ tenantId: 't1', id: 'm', kind: 'email', params: { from: 'a@b.example' } }, cipher),
    ).rejects.toThrow(/host: is required for SMTP/);
  });
});

describe('a stored web SMS provider', () => {
  let stored: ProviderDefinition;

  it('is stored with its secrets sealed and shown masked', async () => {
    stored = await prepareProvider(
      {
        tenantId: 't1',
        id: 'gw-1',
        kind: 'sms_web',
        params: {
          url: `${peer.url}/sms`,
          body: '{"to":"{{to}}","text":"{{text}}"}',
          headers: 'X-Key: {{param.apiKey}}',
          apiKey: 'ak-999',
        },
      },
      cipher,
    );
    expect(JSON.stringify(stored)).not.toContain('ak-999');
    expect(maskParams(CHANNEL_UNITS.sms_web.parameters, stored.params)).toMatchObject({
      apiKey: SECRET_MASK,
    });
  });

  it('sends with the opened secret, and opens it once while warm', async () => {
    decrypts = 0;
    for (let i = 0; i < 3; i++) {
      const channel = await channels.channelFor(stored);
      expect(channel.kind).toBe('sms_web');
      expect(await channel.deliver(request('+4520123456'))).toEqual({ status: 'sent' });
      expect(peer.seen.at(-1)?.headers['x-key']).toBe('ak-999');
    }
    expect(decrypts).toBe(1);
    now.t += 60_000;
    await channels.channelFor(stored);
    expect(decrypts).toBe(2);
  });

  it('keeps the secret through an edit that sends it back masked, and uses the edit at once', async () => {
    const edited = await prepareProvider(
      {
        tenantId: 't1',
        id: 'gw-1',
        kind: 'sms_web',
        params: {
          url: `${peer.url}/sms`,
          headers: 'X-Other: {{param.apiKey}}',
          body: '{}',
          apiKey: SECRET_MASK,
        },
      },
      cipher,
      stored,
    );
    await (await channels.channelFor(edited)).deliver(request('+4520123456'));
    expect(peer.seen.at(-1)?.headers['x-other']).toBe('ak-999');
  });

  it('fails over instead of throwing when its secret does not open', async () => {
    const moved = { ...stored, tenantId: 't2' }; // a sealed value copied to another tenant
    const channel = await channels.channelFor(moved);
    expect(await channel.deliver({ ...request('+4520123456'), tenantId: 't2' })).toMatchObject({
      failure: 'temporary',
      reason: 'credential_unavailable',
    });
    const broken = { ...stored, params: { ...stored.params, successStatus: 'oops' } };
    expect(await (await channels.channelFor(broken)).deliver(request('+4520123456'))).toMatchObject({
      failure: 'config',
      reason: 'provider_config',
    });
  });
});

describe('a stored SMTP provider', () => {
  it('delivers through a pooled transport to the tenant’s server', async () => {
    const stored = await prepareProvider(
      {
        tenantId: 't1',
        id: 'mail-1',
        kind: 'email',
        params: { host: '127.0.0.1', port: smtpPort, security: 'none', from: 'no-reply@acme.example' },
      },
      cipher,
    );
    const channel = await channels.channelFor(stored);
    expect(await channel.deliver(request('alice@corp.example.test'))).toMatchObject({ status: 'sent' });
    expect(mails.at(-1)?.to).toEqual(['alice@corp.example.test']);
    expect(mails.at(-1)?.raw).toContain('Code 419283');
  });

  it('reports SES as unavailable where the deployment has none', async () => {
    const stored = await prepareProvider(
      { tenantId: 't1', id: 'ses-1', kind: 'email', params: { transport: 'ses', from: 'a@b.example' } },
      cipher,
    );
    expect(
      await (await channels.channelFor(stored)).deliver(request('alice@corp.example.test')),
    ).toMatchObject({
      failure: 'config',
      reason: 'ses_unavailable',
    });
  });
});
