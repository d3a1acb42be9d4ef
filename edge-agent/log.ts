/**
 * A tiny structured logger: one JSON object per line. It masks phone numbers wherever they appear and
 * never prints message text, passwords or keys, because a job's text carries the passcode.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr so stdout stays free for CLI output. */
  write?: (line: string) => void;
  bindings?: LogFields;
  now?: () => Date;
}

/** Keys whose values are secret or carry the passcode; matched case-insensitively on the whole key. */
const SECRET_KEYS =
  /^(text|message_?text|body|payload|passcode|code|password|passwd|pass|pin|secret|token|key|privatekey|authorization|cookie)$/i;

/**
 * What a phone number looks like here: `+` and 7–15 digits (spaces or dashes allowed inside), or a bare run of
 * 8–15 digits standing alone (national format from a modem). Dates and ids with separators are left alone.
 */
const PHONE = /\+\d(?:[\s-]?\d){6,14}|(?<![\w.:-])\d{8,15}(?![\w.:-])/g;

export function maskPhone(value: string): string {
  return value.replace(PHONE, (match) => {
    const digits = match.replace(/\D/g, '');
    const plus = match.startsWith('+') ? '+' : '';
    return `${plus}${digits.slice(0, 2)}${'•'.repeat(Math.max(digits.length - 4, 1))}${digits.slice(-2)}`;
  });
}

/** Copies `value` into something safe to log: phone numbers masked, secret fields replaced, depth-limited. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhone(value.length > 500 ? `${value.slice(0, 500)}…` : value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (depth >= 5) return '[deep]';
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: sanitize(value.message, depth + 1) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = sanitize(code, depth + 1);
    if (value.cause !== undefined) out.cause = sanitize(value.cause, depth + 1);
    return out;
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitize(v, depth + 1));
  const out: LogFields = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : sanitize(v, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const minimum = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const bindings = options.bindings ?? {};

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < minimum) return;
    const record = sanitize({ ...bindings, ...fields }) as LogFields;
    try {
      write(`${JSON.stringify({ time: now().toISOString(), level, msg: maskPhone(msg), ...record })}\n`);
    } catch {
      // a logger that throws (closed pipe, full disk) must never take the agent down
    }
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}

/** A logger that drops everything; for tests and library callers that pass none. */
export const silentLogger: Logger = createLogger({ write: () => {} });
