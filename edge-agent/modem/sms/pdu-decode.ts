/**
 * SMS-SUBMIT decoder, written apart from the encoder so the simulator checks what a client really typed.
 * Throws `PduDecodeError` for anything malformed; never reads past the end of the input.
 */

import { PduDecodeError } from '../at/errors.ts';
import { decodeSemiOctets, formatNumber } from './address.ts';
import { septetsToText, unpackSeptets } from './gsm7.ts';
import { relativeValidityMinutes } from './pdu.ts';

export interface ConcatInfo {
  reference: number;
  total: number;
  sequence: number;
}

export interface DecodedSubmit {
  smsc: string | undefined;
  to: string;
  text: string;
  encoding: 'gsm7' | '8bit' | 'ucs2';
  flash: boolean;
  statusReport: boolean;
  /** TP-MR as typed; modems overwrite it with their own reference. */
  messageReference: number;
  /** Set for the relative format only. */
  validityMinutes: number | undefined;
  concat: ConcatInfo | undefined;
  /** Octets after the SMSC field. */
  tpduLength: number;
}

/** Reads octets from a buffer with bounds checks that name the field being read. */
export class OctetReader {
  private pos = 0;
  constructor(private readonly bytes: Buffer) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  octet(field: string): number {
    const v = this.bytes[this.pos];
    if (v === undefined) throw new PduDecodeError(`PDU ends before ${field}`);
    this.pos++;
    return v;
  }
  take(count: number, field: string): Buffer {
    if (count < 0 || this.pos + count > this.bytes.length)
      throw new PduDecodeError(`PDU ends inside ${field}`);
    const out = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }
}

export function hexToBytes(hex: string): Buffer {
  const clean = hex.trim();
  if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(clean)) {
    throw new PduDecodeError('PDU is not an even-length hex string');
  }
  return Buffer.from(clean, 'hex');
}

/** Reads the SMSC field at the start of a PDU as given to or by a modem. */
export function readSmsc(reader: OctetReader): string | undefined {
  const len = reader.octet('SMSC length');
  if (len === 0) return undefined;
  const body = reader.take(len, 'SMSC address');
  const toa = body[0] ?? 0x81;
  return formatNumber(decodeSemiOctets(body.subarray(1), (len - 1) * 2), toa);
}

/** Reads a TP-DA / TP-OA / TP-RA field: digit count, type of address, semi-octets. */
export function readAddress(reader: OctetReader, field: string): string {
  const digits = reader.octet(`${field} length`);
  const toa = reader.octet(`${field} type`);
  const body = reader.take(Math.ceil(digits / 2), field);
  if ((toa & 0x70) === 0x50) {
    // Alphanumeric addresses are GSM 7-bit packed; `digits` counts semi-octets.
    return septetsToText(unpackSeptets(body, Math.floor((digits * 4) / 7)));
  }
  return formatNumber(decodeSemiOctets(body, digits), toa);
}

function alphabetOf(dcs: number): DecodedSubmit['encoding'] {
  const group = dcs >> 4;
  if (group <= 0x7) {
    if (dcs & 0x20) throw new PduDecodeError('compressed text is not supported');
    const alphabet = (dcs >> 2) & 0x03;
    return alphabet === 2 ? 'ucs2' : alphabet === 1 ? '8bit' : 'gsm7';
  }
  if (group === 0xf) return dcs & 0x04 ? '8bit' : 'gsm7';
  if (group === 0xe) return 'ucs2';
  if (group === 0xc || group === 0xd) return 'gsm7';
  throw new PduDecodeError(`data coding scheme 0x${dcs.toString(16)} is reserved`);
}

function isFlash(dcs: number): boolean {
  const group = dcs >> 4;
  if (group <= 0x3) return (dcs & 0x10) !== 0 && (dcs & 0x03) === 0;
  if (group === 0xf) return (dcs & 0x03) === 0;
  return false;
}

/** Parses a UDH and returns the concatenation info (IEI 0x00 or 0x08), if any. */
export function readConcat(udh: Buffer): ConcatInfo | undefined {
  let i = 0;
  let found: ConcatInfo | undefined;
  while (i < udh.length) {
    const iei = udh[i];
    const len = udh[i + 1];
    if (iei === undefined || len === undefined || i + 2 + len > udh.length) {
      throw new PduDecodeError('user data header is truncated');
    }
    const ie = udh.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3) {
      found = { reference: ie[0]!, total: ie[1]!, sequence: ie[2]! };
    } else if (iei === 0x08 && len === 4) {
      found = { reference: (ie[0]! << 8) | ie[1]!, total: ie[2]!, sequence: ie[3]! };
    }
    i += 2 + len;
  }
  if (found && (found.total === 0 || found.sequence === 0 || found.sequence > found.total)) {
    throw new PduDecodeError(`concatenation header says part ${found.sequence} of ${found.total}`);
  }
  return found;
}

/** Decodes TP-UDL + TP-UD into text and concatenation info. */
export function readUserData(
  reader: OctetReader,
  encoding: DecodedSubmit['encoding'],
  hasHeader: boolean,
): { text: string; concat: ConcatInfo | undefined } {
  const udl = reader.octet('TP-UDL');
  const octetCount = encoding === 'gsm7' ? Math.ceil((udl * 7) / 8) : udl;
  const ud = reader.take(octetCount, 'TP-UD');
  let headerOctets = 0;
  let concat: ConcatInfo | undefined;
  if (hasHeader) {
    const udhl = ud[0];
    if (udhl === undefined || udhl + 1 > ud.length) throw new PduDecodeError('user data header is truncated');
    concat = readConcat(ud.subarray(1, 1 + udhl));
    headerOctets = udhl + 1;
  }
  if (encoding === 'gsm7') {
    const headerBits = headerOctets * 8;
    const fill = (7 - (headerBits % 7)) % 7;
    const headerSeptets = (headerBits + fill) / 7;
    if (headerSeptets > udl) throw new PduDecodeError('user data header is longer than TP-UDL');
    const septets = unpackSeptets(ud.subarray(headerOctets), udl - headerSeptets, fill);
    return { text: septetsToText(septets), concat };
  }
  const body = ud.subarray(headerOctets);
  if (encoding === 'ucs2') {
    if (body.length % 2 !== 0) throw new PduDecodeError('UCS2 user data has an odd number of octets');
    return { text: Buffer.from(body).swap16().toString('utf16le'), concat };
  }
  return { text: body.toString('latin1'), concat };
}

/** Decodes an SMS-SUBMIT PDU as typed after `AT+CMGS=<len>` (SMSC field first). */
export function decodeSubmit(hex: string): DecodedSubmit {
  const reader = new OctetReader(hexToBytes(hex));
  const smsc = readSmsc(reader);
  const tpduStart = reader.offset;
  const first = reader.octet('first octet');
  if ((first & 0x03) !== 0x01) throw new PduDecodeError(`not an SMS-SUBMIT (TP-MTI ${first & 0x03})`);
  const messageReference = reader.octet('TP-MR');
  const to = readAddress(reader, 'TP-DA');
  reader.octet('TP-PID');
  const dcs = reader.octet('TP-DCS');
  const vpf = (first >> 3) & 0x03;
  let validityMinutes: number | undefined;
  if (vpf === 0x02) validityMinutes = relativeValidityMinutes(reader.octet('TP-VP'));
  else if (vpf !== 0) reader.take(7, 'TP-VP');
  const encoding = alphabetOf(dcs);
  const { text, concat } = readUserData(reader, encoding, (first & 0x40) !== 0);
  if (reader.remaining > 0) throw new PduDecodeError(`${reader.remaining} octets after the user data`);
  return {
    smsc,
    to,
    text,
    encoding,
    flash: isFlash(dcs),
    statusReport: (first & 0x20) !== 0,
    messageReference,
    validityMinutes,
    concat,
    tpduLength: reader.offset - tpduStart,
  };
}
