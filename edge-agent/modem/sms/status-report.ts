/**
 * SMS-STATUS-REPORT (3GPP TS 23.040 §9.2.2.3), as a modem shows it in `+CDS` in PDU mode: the SMSC field,
 * then TP-MTI, TP-MR, TP-RA, TP-SCTS, TP-DT and TP-ST.
 */

import { PduDecodeError } from '../at/errors.ts';
import { encodeAddress, encodeSmscField, parseNumber } from './address.ts';
import { hexToBytes, OctetReader, readAddress, readSmsc } from './pdu-decode.ts';

export interface StatusReport {
  smsc: string | undefined;
  /** The TP-MR that `+CMGS: <mr>` returned for the part this report is about. */
  messageReference: number;
  recipient: string;
  /** When the SMSC took the message (TP-SCTS). */
  submittedAt: Date;
  /** When the final state was reached (TP-DT). */
  dischargedAt: Date;
  /** TP-ST: 0x00–0x1F completed (0 = delivered), 0x20–0x3F still trying, 0x40 and up failed. */
  status: number;
}

export type DeliveryOutcome = 'delivered' | 'pending' | 'failed';

export function deliveryOutcome(status: number): DeliveryOutcome {
  if (status < 0x20) return 'delivered';
  if (status < 0x40) return 'pending';
  return 'failed';
}

function swapDigits(octet: number): number {
  const lo = octet & 0x0f;
  const hi = octet >> 4;
  return lo * 10 + hi;
}

function toSwapped(value: number): number {
  return ((value % 10) << 4) | Math.floor(value / 10);
}

/** TP-SCTS/TP-DT: seven swapped semi-octets, the last one the zone in quarter hours (bit 3 of it the sign). */
export function decodeTimestamp(octets: Buffer): Date {
  const [y, mo, d, h, mi, s] = [...octets.subarray(0, 6)].map(swapDigits) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const tzRaw = octets[6] ?? 0;
  const negative = (tzRaw & 0x08) !== 0;
  const quarters = swapDigits(tzRaw & 0xf7);
  const offsetMinutes = (negative ? -1 : 1) * quarters * 15;
  const utc = Date.UTC(2000 + y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000;
  return new Date(utc);
}

export function encodeTimestamp(at: Date): Buffer {
  const t = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return Buffer.from([
    toSwapped(t.getUTCFullYear() % 100),
    toSwapped(t.getUTCMonth() + 1),
    toSwapped(t.getUTCDate()),
    toSwapped(t.getUTCHours()),
    toSwapped(t.getUTCMinutes()),
    toSwapped(t.getUTCSeconds()),
    0x00,
  ]);
}

export function decodeStatusReport(hex: string): StatusReport {
  const reader = new OctetReader(hexToBytes(hex));
  const smsc = readSmsc(reader);
  const first = reader.octet('first octet');
  if ((first & 0x03) !== 0x02) throw new PduDecodeError(`not an SMS-STATUS-REPORT (TP-MTI ${first & 0x03})`);
  const messageReference = reader.octet('TP-MR');
  const recipient = readAddress(reader, 'TP-RA');
  const submittedAt = decodeTimestamp(reader.take(7, 'TP-SCTS'));
  const dischargedAt = decodeTimestamp(reader.take(7, 'TP-DT'));
  const status = reader.octet('TP-ST');
  return { smsc, messageReference, recipient, submittedAt, dischargedAt, status };
}

export interface StatusReportInput {
  smsc?: string | undefined;
  messageReference: number;
  recipient: string;
  submittedAt: Date;
  dischargedAt: Date;
  status: number;
}

/** Builds the PDU a modem would show in `+CDS`; returns it with its TPDU length. */
export function encodeStatusReport(input: StatusReportInput): { pdu: string; tpduLength: number } {
  const recipient = parseNumber(input.recipient);
  if (!recipient) throw new RangeError(`recipient ${JSON.stringify(input.recipient)} is not a number`);
  const smsc = input.smsc ? parseNumber(input.smsc) : undefined;
  const tpdu = Buffer.concat([
    Buffer.from([0x06, input.messageReference & 0xff]), // TP-MTI 10 (status report), TP-MMS: no more waiting
    encodeAddress(recipient),
    encodeTimestamp(input.submittedAt),
    encodeTimestamp(input.dischargedAt),
    Buffer.from([input.status & 0xff]),
  ]);
  return {
    pdu: Buffer.concat([encodeSmscField(smsc), tpdu])
      .toString('hex')
      .toUpperCase(),
    tpduLength: tpdu.length,
  };
}
