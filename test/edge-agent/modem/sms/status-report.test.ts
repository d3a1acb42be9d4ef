import { describe, expect, it } from 'vitest';
import { PduDecodeError } from '../../../../edge-agent/modem/at/errors.ts';
import {
  decodeStatusReport,
  deliveryOutcome,
  encodeStatusReport,
} from '../../../../edge-agent/modem/sms/status-report.ts';

describe('SMS-STATUS-REPORT', () => {
  it('decodes a report as a modem shows it after +CDS', () => {
    // SMSC +4540390999, MR 0x2A, recipient +4512345678, SCTS/DT 2026-11-27 10:15:30 +01:00, status 0.
    const pdu = '0691540493909906' + '2A' + '0A915421436587' + '62117201510340' + '62117201510340' + '00';
    const report = decodeStatusReport(pdu);
    expect(report).toEqual({
      smsc: '+4540390999',
      messageReference: 42,
      recipient: '+4512345678',
      submittedAt: new Date('2026-11-27T10:15:30+01:00'),
      dischargedAt: new Date('2026-11-27T10:15:30+01:00'),
      status: 0,
    });
  });

  it('reads negative time zones', () => {
    // Zone octet 0x28: units digit 2 in the high nibble, sign bit in the low one: -2 quarter hours.
    const pdu = '00' + '06' + '01' + '0A915421436587' + '62117201510328' + '62117201510328' + '46';
    const report = decodeStatusReport(pdu);
    expect(report.submittedAt.toISOString()).toBe(new Date('2026-11-27T10:15:30-00:30').toISOString());
    expect(deliveryOutcome(report.status)).toBe('failed');
  });

  it('round-trips what the simulator encodes', () => {
    const at = new Date('2027-01-02T03:04:05Z');
    const { pdu, tpduLength } = encodeStatusReport({
      messageReference: 255,
      recipient: '+4512345678',
      submittedAt: at,
      dischargedAt: at,
      status: 0x30,
    });
    expect(tpduLength).toBe(pdu.length / 2 - 1);
    expect(decodeStatusReport(pdu)).toMatchObject({
      messageReference: 255,
      recipient: '+4512345678',
      status: 0x30,
    });
    expect(decodeStatusReport(pdu).submittedAt).toEqual(at);
    expect(deliveryOutcome(0x30)).toBe('pending');
    expect(deliveryOutcome(0)).toBe('delivered');
  });

  it('rejects truncated and foreign PDUs with a PduDecodeError', () => {
    expect(() => decodeStatusReport('0006')).toThrow(PduDecodeError);
    expect(() => decodeStatusReport('0001000A9154214365870000')).toThrow(/not an SMS-STATUS-REPORT/);
    expect(() => decodeStatusReport('zz')).toThrow(PduDecodeError);
  });
});
