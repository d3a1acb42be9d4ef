import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, PayloadTooLargeError } from '../core/errors.ts';

export const MAX_BODY_BYTES = 16 * 1024;

/** Reads, size-checks, parses and validates a JSON body; each failure is a clear 400 or 413. */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  limit = MAX_BODY_BYTES,
): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new InvalidRequestError('The body must be JSON (Content-Type: application/json).');
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > limit) throw new PayloadTooLargeError(limit);
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new InvalidRequestError('The body is not valid JSON.');
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || '(body)',
      message: i.message,
    }));
    const first = issues[0]!;
    throw new InvalidRequestError(`${first.path}: ${first.message}`, issues);
  }
  return parsed.data;
}
