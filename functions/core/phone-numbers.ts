/**
 * Reading phone numbers as people type them into AD ("20 12 34 56", "0045…", "+45 …") into E.164, with the
 * number's type. This needs the full metadata (~150 KB), so only the sync and admin functions import it; the
 * auth function reads the type stored beside the number.
 */
import { type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { PhoneType } from './model.ts';

export interface NormalisedPhone {
  e164: string;
  type: PhoneType;
  /** ISO 3166 alpha-2, when the number belongs to one country. */
  country?: string;
}

const TYPES: Record<NonNullable<NumberType>, PhoneType> = {
  MOBILE: 'mobile',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  FIXED_LINE: 'fixed_line',
  PREMIUM_RATE: 'premium_rate',
  TOLL_FREE: 'toll_free',
  SHARED_COST: 'shared_cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal_number',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

/** `undefined` for anything that is not a valid number of a real numbering plan. */
export function normalisePhone(input: string, defaultCountry: string): NormalisedPhone | undefined {
  const trimmed = input.trim();
  if (trimmed.length < 3 || trimmed.length > 40) return undefined;
  const withPlus = trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : trimmed;
  const parsed = parsePhoneNumberFromString(
    withPlus,
    defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1],
  );
  if (!parsed?.isValid()) return undefined;
  const type = parsed.getType();
  return {
    e164: parsed.number,
    type: type ? TYPES[type] : 'unknown',
    ...(parsed.country && { country: parsed.country }),
  };
}

/** Types a passcode may be sent to by SMS. */
export const SMS_CAPABLE: ReadonlySet<PhoneType> = new Set(['mobile', 'fixed_line_or_mobile']);
