import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtLineParser, type AtToken } from '../../../../edge-agent/modem/at/at-line-parser.ts';

function feed(chunks: string[]): AtToken[] {
  const parser = new AtLineParser();
  return chunks.flatMap((c) => parser.push(Buffer.from(c, 'latin1')));
}

describe('AtLineParser', () => {
  it('splits CR LF, bare CR and bare LF lines and drops empty ones', () => {
    expect(feed(['\r\n+CSQ: 17,99\r\n\r\nOK\r\n', 'A\rB\nC\r\n'])).toEqual([
      { type: 'line', text: '+CSQ: 17,99' },
      { type: 'line', text: 'OK' },
      { type: 'line', text: 'A' },
      { type: 'line', text: 'B' },
      { type: 'line', text: 'C' },
    ]);
  });

  it('sees the prompt, which has no line ending', () => {
    expect(feed(['AT+CMGS=23\r', '\r\n> '])).toEqual([
      { type: 'line', text: 'AT+CMGS=23' },
      { type: 'prompt' },
    ]);
    expect(feed(['\r\n>'])).toEqual([{ type: 'prompt' }]);
  });

  it('gives the same tokens however the bytes are fragmented', () => {
    const stream = 'ATE0\r\r\nOK\r\n\r\n+CDS: 25\r\n0006\r\n\r\n> \r\n+CMGS: 7\r\n\r\nOK\r\n';
    const whole = feed([stream]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(stream.slice(last, p));
          last = p;
        }
        chunks.push(stream.slice(last));
        // A cut just after '>' shows the prompt before its space arrives; the token stream is the same.
        expect(feed(chunks)).toEqual(whole);
      }),
    );
  });

  it('keeps memory bounded when a line never ends', () => {
    const parser = new AtLineParser();
    const out = parser.push(Buffer.alloc(10_000, 0x41));
    expect(out).toHaveLength(1);
    expect(out[0]).toEqual({ type: 'line', text: 'A'.repeat(4096) });
  });
});
