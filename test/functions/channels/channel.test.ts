/** The last line of defence: a channel that throws still yields an outcome, so the chain moves on. */
import { expect, it } from 'vitest';
import { type Channel, deliverSafely } from '../../../functions/core/channels/channel.ts';

it('turns anything a channel throws into a temporary failure without internals', async () => {
  const broken: Channel = {
    kind: 'sms_web',
    deliver: async () => {
      throw new TypeError('secret detail: password=hunter2');
    },
  };
  const outcome = await deliverSafely(broken, {
    tenantId: 't',
    challengeId: 'c',
    step: 0,
    to: '+4520123456',
    text: 'x',
  });
  expect(outcome).toEqual({
    status: 'failed',
    failure: 'temporary',
    reason: 'channel_error',
    detail: 'TypeError',
  });
});
