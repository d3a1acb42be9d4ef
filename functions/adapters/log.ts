/**
 * One-line JSON logs. Fields that can hold a secret are dropped by name, and phone numbers are masked,
 * wherever they appear.
 */
import { ENV } from '../contracts/env.ts';
import { maskPhonesIn } from '../core/phone.ts';
import type { Logger } from '../core/ports/log.ts';

/** The composition roots take the port's type from here, beside the function that makes one. */
export type { Logger };

const SECRET_FIELD = /pass(code|word)?|secret|token|authorization|^key$|apikey|sealed|^text$|^code$/i;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[deep]';
  if (typeof value === 'string') return maskPhonesIn(value);
  if (value instanceof Error) return { name: value.name, message: maskPhonesIn(value.message) };
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_FIELD.test(k) ? '[redacted]' : scrub(v, depth + 1);
    return out;
  }
  return value;
}

/**
 * Lambda's own levels (`AWS_LAMBDA_LOG_LEVEL`, set from the function's logging config when its log format is
 * JSON) in ours. Lambda drops every JSON line below that level by the line's `level` field, so a logger set
 * lower only writes lines nobody sees, and one set higher hides what the config asks for.
 */
const LAMBDA_LEVELS: Record<string, LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'error',
};

/**
 * The level a logger starts with: the function's logging config in Lambda (it wins, being what the console
 * shows and changes), else `LOG_LEVEL`, else `info`.
 */
export function configuredLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const lambda = LAMBDA_LEVELS[(env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()];
  if (lambda) return lambda;
  const own = (env[ENV.logLevel] ?? '').toLowerCase();
  return own in ORDER ? (own as LogLevel) : 'info';
}

export function createLogger(
  base: Record<string, unknown> = {},
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const min = ORDER[options.level ?? configuredLogLevel()] ?? ORDER.info;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    write(
      JSON.stringify({
        level,
        time: new Date().toISOString(),
        msg: maskPhonesIn(msg),
        ...(scrub({ ...base, ...fields }) as object),
      }),
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
