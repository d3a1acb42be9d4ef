import { describe, expect, it } from 'vitest';
import { SmsJob } from '../../functions/contracts/index.ts';
import { MAX_MESSAGE_CHARS, renderMessage } from '../../functions/core/delivery-planning.ts';

describe('renderMessage', () => {
  it('fills the code, the validity and the session facts', () => {
    expect(
      renderMessage('Code {code}, {minutes} min, from {ip} via {client}', {
        code: '123456',
        minutes: 5,
        ip: '203.0.113.7',
        client: 'vpn-gw-1',
      }),
    ).toBe('Code 123456, 5 min, from 203.0.113.7 via vpn-gw-1');
  });

  it('never outgrows an SMS job: long session facts repeated by the template are dropped, the code stays', () => {
    const template = `{code} ${'{client}'.repeat(39)}`.slice(0, 320);
    const text = renderMessage(template, { code: '987654', minutes: 5, client: 'c'.repeat(128) });
    expect(text.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(text).toContain('987654');
    const job = SmsJob.safeParse({
      v: 1,
      id: 'AAAAAAAAAAAAAAAAAAAAAA.0',
      kind: 'sms',
      to: '+4520123456',
      text,
      flash: false,
      modemGroup: 'default',
      expiresAt: new Date().toISOString(),
    });
    expect(job.success).toBe(true);
  });
});
