/** Cursors come back from clients: any that this API did not hand out gets a 400, never a loop or a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const forged = [
  ['not base64 JSON', 'abc'],
  ['month 00, which previousMonth() never leaves', cursor({ m: '9999-00' })],
  ['a month far in the future', cursor({ m: '9999-12' })],
  ['a month before anything is kept', cursor({ m: '1999-01' })],
  ['a month that is not a string', cursor({ m: 202611 })],
] as const;

describe('list cursors', () => {
  for (const [what, value] of forged) {
    it(`refuses ${what} on the tenant audit log, the operator audit log and the message log`, async () => {
      const q = `cursor=${encodeURIComponent(value)}`;
      const audit = await t.call(t.admin, 'GET', `/v1/audit?${q}`, t.seed.keys.admin);
      expect({ status: audit.status, code: audit.body?.error?.code }).toEqual({
        status: 400,
        code: 'invalid_request',
      });
      const operator = await t.call(t.operator, 'GET', `/v1/operator/audit?${q}`, t.seed.keys.operator);
      expect({ status: operator.status, code: operator.body?.error?.code }).toEqual({
        status: 400,
        code: 'invalid_request',
      });
      const log = await t.call(t.admin, 'GET', `/v1/message-log?${q}`, t.seed.keys.admin);
      expect(log.status).toBe(400);
    });
  }
});
