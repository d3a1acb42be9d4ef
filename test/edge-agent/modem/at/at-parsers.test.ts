import { describe, expect, it } from 'vitest';
import {
  parseCdsPduHeader,
  parseCdsText,
  parseCmgs,
  parseCops,
  parseCpin,
  parseCregResponse,
  parseCregUrc,
  parseCsca,
  parseCsq,
  parseFinalResult,
  responsePrefix,
} from '../../../../edge-agent/modem/at/at-parsers.ts';
import { classifyCme, classifyCms } from '../../../../edge-agent/modem/at/error-classes.ts';

describe('AT reply parsers', () => {
  it('reads final results, numeric and verbose errors', () => {
    expect(parseFinalResult('OK')).toEqual({ type: 'ok' });
    expect(parseFinalResult('ERROR')).toEqual({ type: 'error' });
    expect(parseFinalResult('+CMS ERROR: 500')).toEqual({ type: 'cms', code: 500, text: '500' });
    expect(parseFinalResult('+CME ERROR: SIM PIN required')).toEqual({
      type: 'cme',
      code: 11,
      text: 'SIM PIN required',
    });
    expect(parseFinalResult('+CSQ: 1,2')).toBeUndefined();
  });

  it('reads signal, registration, operator, PIN state, SMSC and message references', () => {
    expect(parseCsq('+CSQ: 21,99')).toEqual({ rssi: 21, ber: 99 });
    expect(parseCsq('+CSQ: x')).toBeUndefined();
    expect(parseCregResponse('+CREG: 0,1')).toBe('home');
    expect(parseCregResponse('+CREG: 2,5,"1A2B","0C3D",7')).toBe('roaming');
    expect(parseCregResponse('+CREG: 0,3')).toBe('denied');
    expect(parseCregUrc('+CREG: 2')).toBe('searching');
    expect(parseCregUrc('+CREG: 1,"1A2B","0C3D"')).toBe('home');
    expect(parseCregUrc('+CREG: 0,1')).toBeUndefined();
    expect(parseCops('+COPS: 0,0,"TDC",7')).toEqual({ operator: 'TDC' });
    expect(parseCops('+COPS: 0')).toEqual({ operator: null });
    expect(parseCpin('+CPIN: SIM PIN')).toBe('SIM PIN');
    expect(parseCsca('+CSCA: "+4540390999",145')).toBe('+4540390999');
    expect(parseCsca('+CSCA: "",129')).toBeUndefined();
    expect(parseCmgs('+CMGS: 255')).toBe(255);
    expect(parseCmgs('+CMGS: 256')).toBeUndefined();
  });

  it('tells a +CDS PDU header from a text-mode report', () => {
    expect(parseCdsPduHeader('+CDS: 25')).toBe(25);
    expect(
      parseCdsPduHeader('+CDS: 6,12,"+4512345678",145,"26/11/27,10:15:30+04","26/11/27,10:15:35+04",0'),
    ).toBeUndefined();
    expect(
      parseCdsText('+CDS: 6,12,"+4512345678",145,"26/11/27,10:15:30+04","26/11/27,10:15:35+04",0'),
    ).toEqual({
      messageReference: 12,
      status: 0,
    });
  });

  it('knows which prefix a command answers with', () => {
    expect(responsePrefix('AT+CSQ')).toBe('+CSQ');
    expect(responsePrefix('at+creg?')).toBe('+CREG');
    expect(responsePrefix('AT+CMGS=23')).toBe('+CMGS');
    expect(responsePrefix('ATI')).toBeUndefined();
  });
});

describe('error classes', () => {
  it('sorts CMS errors as Gammu and Kannel do', () => {
    expect(classifyCms(1).kind).toBe('permanent'); // unassigned number
    expect(classifyCms(21).kind).toBe('permanent'); // transfer rejected
    expect(classifyCms(42).kind).toBe('temporary'); // congestion
    expect(classifyCms(332).kind).toBe('temporary'); // network timeout
    expect(classifyCms(500).kind).toBe('temporary');
    expect(classifyCms(310).kind).toBe('modem'); // SIM not inserted
    expect(classifyCms(330).kind).toBe('modem'); // SMSC unknown
    expect(classifyCms(331).kind).toBe('modem'); // no network service
    expect(classifyCms(150).kind).toBe('permanent'); // unlisted TP-DCS error
    expect(classifyCms(530).kind).toBe('temporary'); // vendor specific
  });

  it('sorts CME errors', () => {
    expect(classifyCme(11).kind).toBe('modem');
    expect(classifyCme(14).kind).toBe('temporary');
    expect(classifyCme(27).kind).toBe('permanent');
    expect(classifyCme(44).kind).toBe('modem');
    expect(classifyCme(999).kind).toBe('temporary');
  });
});
