import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, PayloadTooLargeError } from '../core/errors.ts';

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The body's bytes, counted as they stream in: past `limit` the read stops and the stream is cancelled, so a
 * chunked body of any length costs at most `limit` bytes of memory. Content-Length is only a shortcut to
 * refuse early; a body without one, or one that outgrows it, is held to the same limit.
 */
export async function readCapped(c: Context, limit: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Reads, size-checks, parses and validates a JSON body; each failure is a clear 400 or 413. */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  limit = MAX_BODY_BYTES,
): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new InvalidRequestError('The body must be JSON (Content-Type: application/json).');
  const bytes = await readCapped(c, limit);
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
