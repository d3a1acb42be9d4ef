/** A dispatch message always names its rule and kind, and its sealed part is the chain's payload only. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { chainSealContext, openDispatchPayload, PoisonMessageError } from '../../functions/core/dispatch.ts';
import { DeploymentKeys } from '../../functions/core/secrets.ts';

describe('dispatch messages', () => {
  const keys = new DeploymentKeys(randomBytes(32));
  const base = {
    v: 1,
    kind: 'step',
    tenantId: 'acme',
    challengeId: 'AAAAAAAAAAAAAAAAAAAAAA',
    step: 0,
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    modemGroup: 'default',
    flash: false,
    rule: { channel: 'sms_modem', target: 'primary', route: 'default', timeoutSeconds: 60 },
  } as const;

  it('always carry their rule and kind', () => {
    const { rule: _rule, ...withoutRule } = base;
    const { kind: _kind, ...withoutKind } = base;
    expect(DispatchMessage.safeParse({ ...base, sealed: 'x' }).success).toBe(true);
    expect(DispatchMessage.safeParse({ ...withoutRule, sealed: 'x' }).success).toBe(false);
    expect(DispatchMessage.safeParse({ ...withoutKind, sealed: 'x' }).success).toBe(false);
  });

  it('open only the chain payload; a bare {to, text} is poison', () => {
    const context = chainSealContext(base.tenantId, base.challengeId);
    const good = keys.seal(
      JSON.stringify({
        text: 'Code 1',
        targets: { primary: '+4520123456', secondary: null, email: null },
        username: 'a',
      }),
      context,
    );
    expect(openDispatchPayload(keys, DispatchMessage.parse({ ...base, sealed: good })).text).toBe('Code 1');
    const bare = keys.seal(JSON.stringify({ to: '+4520123456', text: 'Code 1' }), context);
    expect(() => openDispatchPayload(keys, DispatchMessage.parse({ ...base, sealed: bare }))).toThrow(
      PoisonMessageError,
    );
  });
});
