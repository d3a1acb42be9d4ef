/**
 * In Lambda the function's logging config sets the level (`AWS_LAMBDA_LOG_LEVEL`, JSON log format) and Lambda
 * drops JSON lines below it; the logger takes the same level, so a config changed to DEBUG shows debug lines
 * and one at WARN costs no info lines. Outside Lambda, `LOG_LEVEL` as before.
 */
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterEach, expect, it } from 'vitest';
import { configuredLogLevel, createLogger } from '../../functions/adapters/log.ts';

const saved = { lambda: process.env.AWS_LAMBDA_LOG_LEVEL, own: process.env.LOG_LEVEL };
afterEach(() => {
  for (const [key, value] of [
    ['AWS_LAMBDA_LOG_LEVEL', saved.lambda],
    ['LOG_LEVEL', saved.own],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** The levels of the lines a logger built now writes, one call of each. */
function written(): string[] {
  const lines: string[] = [];
  const log = createLogger({}, { write: (line) => lines.push(line) });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  return lines.map((l) => (JSON.parse(l) as { level: string }).level);
}

it("follows the function's logging config in Lambda, over LOG_LEVEL", () => {
  process.env.LOG_LEVEL = 'warn';
  process.env.AWS_LAMBDA_LOG_LEVEL = 'DEBUG';
  expect(written()).toEqual(['debug', 'info', 'warn', 'error']);
  process.env.LOG_LEVEL = 'debug';
  process.env.AWS_LAMBDA_LOG_LEVEL = 'WARN';
  expect(written()).toEqual(['warn', 'error']);
});

it('maps every application log level Lambda offers', () => {
  const expected: Record<string, string> = {
    TRACE: 'debug',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
    FATAL: 'error',
  };
  const levels = Object.values(lambda.ApplicationLogLevel) as string[];
  expect(levels.sort()).toEqual(Object.keys(expected).sort());
  for (const level of levels)
    expect(configuredLogLevel({ AWS_LAMBDA_LOG_LEVEL: level }), level).toBe(expected[level]);
});

it('uses LOG_LEVEL outside Lambda, and info when neither says anything usable', () => {
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  process.env.LOG_LEVEL = 'error';
  expect(written()).toEqual(['error']);
  expect(configuredLogLevel({})).toBe('info');
  expect(configuredLogLevel({ LOG_LEVEL: 'loud' })).toBe('info');
  expect(configuredLogLevel({ AWS_LAMBDA_LOG_LEVEL: 'LOUD', LOG_LEVEL: 'warn' })).toBe('warn');
});
