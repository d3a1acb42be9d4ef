/**
 * SMS-SUBMIT encoder (3GPP TS 23.040 §9.2.2.2) for AT+CMGS in PDU mode.
 *
 * GSM 7-bit with the extension table when every character fits, UCS2 (UTF-16 code units) otherwise.
 * Long texts become concatenated parts with an 8-bit reference UDH (IEI 0x00).
 */

import { PduEncodeError } from '../at/errors.ts';
import { encodeAddress, encodeSmscField, type ParsedNumber, parseNumber } from './address.ts';
import { charToSeptets, gsm7Cost, isGsm7, packSeptets } from './gsm7.ts';
import { splitCodeUnits, splitSeptets } from './split-text.ts';

export type SmsEncoding = 'gsm7' | 'ucs2';

export const GSM7_SINGLE_SEPTETS = 160;
export const GSM7_PART_SEPTETS = 153;
export const UCS2_SINGLE_UNITS = 70;
export const UCS2_PART_UNITS = 67;
export const MAX_PARTS = 255;

export interface SubmitOptions {
  to: string;
  text: string;
  /** Class 0: shown at once and not stored by the phone. */
  flash?: boolean | undefined;
  /** Sets TP-SRR so the network sends a status report (+CDS). */
  statusReport?: boolean | undefined;
  /** Relative validity period; rounded up to the next value TP-VP can express (5 min … 63 weeks). */
  validityMinutes?: number | undefined;
  /** SMSC number; omitted means the `00` field, so the modem uses the SMSC from AT+CSCA. */
  smsc?: string | undefined;
  /** Concatenation reference (0–255), the same for all parts of one message. Defaults to a rolling counter. */
  reference?: number | undefined;
}

export interface SubmitPart {
  /** The hex string to type after the `> ` prompt (SMSC field included). */
  pdu: string;
  /** Octets after the SMSC field: the `<length>` of `AT+CMGS=<length>`. */
  tpduLength: number;
}

export interface PartPlan {
  encoding: SmsEncoding;
  /** The text of each part; joined they give back the original text. */
  parts: string[];
}

let rollingReference = Math.floor(Math.random() * 256);

/** A fresh concatenation reference, for callers that do not keep their own. */
export function nextConcatReference(): number {
  rollingReference = (rollingReference + 1) & 0xff;
  return rollingReference;
}

/** How a text is split: 160/70 in one part, 153/67 per part once split. Escapes and surrogate pairs stay whole. */
export function planParts(text: string): PartPlan {
  if (isGsm7(text)) {
    let total = 0;
    for (const ch of text) total += gsm7Cost(ch)!;
    if (total <= GSM7_SINGLE_SEPTETS) return { encoding: 'gsm7', parts: [text] };
    return { encoding: 'gsm7', parts: splitSeptets(text, GSM7_PART_SEPTETS) };
  }
  if (text.length <= UCS2_SINGLE_UNITS) return { encoding: 'ucs2', parts: [text] };
  return { encoding: 'ucs2', parts: splitCodeUnits(text, UCS2_PART_UNITS) };
}

/** TP-VP in relative format (23.040 §9.2.3.12.1), the smallest value not shorter than `minutes`. */
export function relativeValidity(minutes: number): number {
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new PduEncodeError(
      `validity must be a positive number of minutes, not ${minutes}`,
      'invalid_option',
    );
  }
  if (minutes <= 720) return Math.max(0, Math.ceil(minutes / 5) - 1);
  if (minutes <= 1440) return 143 + Math.ceil((minutes - 720) / 30);
  const days = Math.ceil(minutes / 1440);
  if (days <= 30) return 166 + days;
  const weeks = Math.ceil(days / 7);
  return Math.min(255, 192 + weeks);
}

/** Minutes that a relative TP-VP stands for. */
export function relativeValidityMinutes(vp: number): number {
  if (vp <= 143) return (vp + 1) * 5;
  if (vp <= 167) return 720 + (vp - 143) * 30;
  if (vp <= 196) return (vp - 166) * 1440;
  return (vp - 192) * 7 * 1440;
}

function dataCodingScheme(encoding: SmsEncoding, flash: boolean): number {
  const alphabet = encoding === 'ucs2' ? 0x08 : 0x00;
  // Bit 4 says the class bits are meaningful; class 0 is the flash class.
  return flash ? 0x10 | alphabet : alphabet;
}

function userData(encoding: SmsEncoding, text: string, udh: Buffer | undefined): { udl: number; ud: Buffer } {
  const header = udh ? Buffer.concat([Buffer.from([udh.length]), udh]) : Buffer.alloc(0);
  if (encoding === 'ucs2') {
    const body = Buffer.from(text, 'utf16le').swap16();
    return { udl: header.length + body.length, ud: Buffer.concat([header, body]) };
  }
  const septets: number[] = [];
  for (const ch of text) septets.push(...charToSeptets(ch));
  const headerBits = header.length * 8;
  const fillBits = (7 - (headerBits % 7)) % 7;
  const headerSeptets = (headerBits + fillBits) / 7;
  return {
    udl: headerSeptets + septets.length,
    ud: Buffer.concat([header, packSeptets(septets, fillBits)]),
  };
}

function requireNumber(value: string, what: 'to' | 'smsc'): ParsedNumber {
  const parsed = parseNumber(value);
  if (!parsed) {
    throw new PduEncodeError(
      `${what} ${JSON.stringify(value)} is not a phone number`,
      what === 'to' ? 'invalid_number' : 'invalid_smsc',
    );
  }
  return parsed;
}

/** Encodes one SMS as one or more SMS-SUBMIT PDUs, in part order. */
export function encodeSubmit(options: SubmitOptions): SubmitPart[] {
  const to = requireNumber(options.to, 'to');
  const smsc =
    options.smsc === undefined || options.smsc === '' ? undefined : requireNumber(options.smsc, 'smsc');
  const plan = planParts(options.text);
  if (plan.parts.length > MAX_PARTS) {
    throw new PduEncodeError(
      `text needs ${plan.parts.length} parts; at most ${MAX_PARTS} are possible`,
      'too_long',
    );
  }
  const reference = options.reference ?? (plan.parts.length > 1 ? nextConcatReference() : 0);
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new PduEncodeError(`reference must be 0..255, not ${reference}`, 'invalid_option');
  }
  const vp = options.validityMinutes === undefined ? undefined : relativeValidity(options.validityMinutes);
  const smscField = encodeSmscField(smsc);
  const address = encodeAddress(to);
  const dcs = dataCodingScheme(plan.encoding, options.flash === true);
  const total = plan.parts.length;

  return plan.parts.map((partText, index) => {
    const udh = total > 1 ? Buffer.from([0x00, 0x03, reference, total, index + 1]) : undefined;
    // TP-MTI = 01 (SUBMIT); TP-VPF = 10 (relative) when a validity is given.
    let firstOctet = 0x01;
    if (vp !== undefined) firstOctet |= 0x10;
    if (options.statusReport) firstOctet |= 0x20;
    if (udh) firstOctet |= 0x40;
    const { udl, ud } = userData(plan.encoding, partText, udh);
    const tpdu = Buffer.concat([
      Buffer.from([firstOctet, 0x00]), // TP-MR 0: the modem assigns the reference
      address,
      Buffer.from([0x00, dcs]), // TP-PID 0
      vp === undefined ? Buffer.alloc(0) : Buffer.from([vp]),
      Buffer.from([udl]),
      ud,
    ]);
    return {
      pdu: Buffer.concat([smscField, tpdu]).toString('hex').toUpperCase(),
      tpduLength: tpdu.length,
    };
  });
}
