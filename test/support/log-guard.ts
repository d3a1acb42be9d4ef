/**
 * Runs in every test file (vitest `setupFiles`): watches everything the file's process writes to stdout and
 * stderr, and fails the file if a line holds an API key or a passcode message. Keys have a shape of their own
 * (`sp.<kind>.<tenant>.<32 characters>`); passcodes are recognised by the message that carries them.
 * Suites that handle codes directly also assert the exact codes they saw (test/support/security.ts).
 */
import { afterAll, expect } from 'vitest';

const KEY = /sp\.(auth|sync|admin|operator)\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{32}/;
const PASSCODE_MESSAGE = /\bcode is [A-Za-z0-9]{4,12}\b/i;

const seen: string[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (KEY.test(text) || PASSCODE_MESSAGE.test(text)) seen.push(text.slice(0, 300));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

afterAll(() => {
  expect(seen, 'a log line held an API key or a passcode').toEqual([]);
});
