import { describe, expect, it } from 'vitest';
import { splitCodeUnits, splitSeptets } from '../../../../edge-agent/modem/sms/split-text.ts';

describe('splitting text into SMS parts', () => {
  it('cuts GSM 7-bit by septets and never splits an extension character (two septets)', () => {
    expect(splitSeptets(`${'a'.repeat(152)}€b`, 153)).toEqual(['a'.repeat(152), '€b']);
    expect(splitSeptets('a'.repeat(306), 153)).toEqual(['a'.repeat(153), 'a'.repeat(153)]);
    expect(splitSeptets('', 160)).toEqual(['']);
  });

  it('cuts UCS2 by code units and never splits a surrogate pair', () => {
    const parts = splitCodeUnits(`${'ж'.repeat(66)}😀${'ж'.repeat(10)}`, 67);
    expect(parts).toEqual(['ж'.repeat(66), `😀${'ж'.repeat(10)}`]);
    expect(parts.join('')).toBe(`${'ж'.repeat(66)}😀${'ж'.repeat(10)}`);
    expect(splitCodeUnits('', 70)).toEqual(['']);
  });
});
