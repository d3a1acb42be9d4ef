/** Voice calls read the code out one character at a time, twice. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchHttpTransport } from '../../../functions/adapters/http/fetch-transport.ts';
import { Bulkheads } from '../../../functions/core/channels/bulkhead.ts';
import {
  spellOut,
  spokenText,
  VoiceProvider,
  voiceProviderConfig,
} from '../../../functions/core/channels/voice-provider.ts';
import { type HttpPeer, json, startHttpPeer } from './http-peer.ts';

describe('spokenText', () => {
  it('spells a numeric code digit by digit and repeats it', () => {
    expect(spokenText('Your login code is 419283. Valid for 5 minutes.')).toBe(
      'Your login code is 4 1 9 2 8 3. Valid for 5 minutes. I repeat: 4 1 9 2 8 3.',
    );
  });

  it('spells alphanumeric codes in capitals, so letters are read as letters', () => {
    expect(spellOut('k7p2')).toBe('K 7 P 2');
    expect(spokenText('Code: k7p2q9')).toBe('Code: K 7 P 2 Q 9. I repeat: K 7 P 2 Q 9.');
  });

  it('leaves short numbers, IP addresses and plain words alone', () => {
    expect(spokenText('Login from 203.0.113.7, vpn-gw-1: code 5521 for 5 minutes')).toBe(
      'Login from 203.0.113.7, vpn-gw-1: code 5 5 2 1 for 5 minutes. I repeat: 5 5 2 1.',
    );
    expect(spokenText('Your memo code is bakodu tifena.')).toBe('Your memo code is bakodu tifena.');
  });

  it('reads once when asked, and uses the tenant’s phrase for the repeat', () => {
    expect(spokenText('Code 419283', { repeatPhrase: '' })).toBe('Code 4 1 9 2 8 3');
    expect(spokenText('Kode 419283!', { repeatPhrase: 'Jeg gentager:' })).toBe(
      'Kode 4 1 9 2 8 3! Jeg gentager: 4 1 9 2 8 3.',
    );
  });
});

describe('the voice provider', () => {
  let peer: HttpPeer;
  beforeAll(async () => {
    peer = await startHttpPeer();
    peer.on('/call', json(200, { callId: 'call-9' }));
  });
  afterAll(async () => peer?.close());

  const deps = {
    http: new FetchHttpTransport(),
    bulkheads: new Bulkheads(),
    allowPlainHttp: true,
    allowPrivateNetworks: true,
  };
  const send = (extra: Record<string, unknown> = {}) =>
    new VoiceProvider(
      { tenantId: 't1', providerId: 'voice-1' },
      voiceProviderConfig({
        url: `${peer.url}/call`,
        body: '{"to":"{{to}}","say":"{{text}}"}',
        messageIdJsonPath: 'callId',
        ...extra,
      }),
      deps,
    ).deliver({
      tenantId: 't1',
      challengeId: 'c1',
      step: 1,
      to: '+4520123456',
      text: 'Your code is 419283.',
    });

  it('calls the provider with the read-out text', async () => {
    expect(await send()).toEqual({ status: 'sent', providerMessageId: 'call-9' });
    expect(JSON.parse(peer.seen.at(-1)!.body)).toEqual({
      to: '+4520123456',
      say: 'Your code is 4 1 9 2 8 3. I repeat: 4 1 9 2 8 3.',
    });
    expect(VoiceProvider.parameters().map((p) => p.name)).toContain('repeatPhrase');
  });

  it('takes the repeat phrase and read-once from its parameters', async () => {
    await send({ repeatPhrase: 'Once more:' });
    expect(JSON.parse(peer.seen.at(-1)!.body).say).toBe('Your code is 4 1 9 2 8 3. Once more: 4 1 9 2 8 3.');
    await send({ readTwice: false });
    expect(JSON.parse(peer.seen.at(-1)!.body).say).toBe('Your code is 4 1 9 2 8 3.');
    expect(
      new VoiceProvider(
        { tenantId: 't', providerId: 'v' },
        voiceProviderConfig({ url: 'https://x.example' }),
        deps,
      ).kind,
    ).toBe('voice');
  });
});
