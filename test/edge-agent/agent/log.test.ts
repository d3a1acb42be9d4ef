import { describe, expect, it } from 'vitest';
import { createLogger, maskPhone } from '../../../edge-agent/log.ts';

describe('logger', () => {
  it('masks phone numbers but leaves dates and ids alone', () => {
    expect(maskPhone('to +4520123456 now')).toBe('to +45••••••56 now');
    expect(maskPhone('+45 20 12 34 56')).toBe('+45••••••56');
    expect(maskPhone('2026-11-27T19:00:00.000Z job-12345')).toBe('2026-11-27T19:00:00.000Z job-12345');
  });

  it('writes one JSON line per record, drops secrets and message text, masks numbers anywhere', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l) }).child({ agent: 'a1' });
    log.debug('hidden');
    log.info('sending to +4520123456', {
      job: { id: 'j1', to: '+4520123456', text: 'Your code is 123456', password: 'pw' },
      err: new Error('modem said +CMS ERROR for +4520123456'),
    });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({
      level: 'info',
      agent: 'a1',
      msg: 'sending to +45••••••56',
      job: { id: 'j1', to: '+45••••••56', text: '[redacted]', password: '[redacted]' },
      err: { name: 'Error', message: 'modem said +CMS ERROR for +45••••••56' },
    });
    expect(lines[0]).not.toContain('123456');
  });

  it('never throws when the output does', () => {
    const log = createLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => log.error('x')).not.toThrow();
  });
});
