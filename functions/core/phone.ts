import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';

/** "+4512345656" → "+45 •• •• •• 56": the country code and the last two digits, nothing else. */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const cc = parsed?.countryCallingCode ?? '';
  const national = parsed ? String(parsed.nationalNumber) : e164.replace(/\D/g, '');
  const hidden = Math.max(0, national.length - 2);
  const groups: string[] = [];
  for (let i = 0; i < hidden; i += 2) groups.push('••'.slice(0, Math.min(2, hidden - i)));
  return [`+${cc}`, ...groups, national.slice(-2)].join(' ');
}

/** Masks every E.164-looking number inside free text (log lines). */
export function maskPhonesIn(text: string): string {
  return text.replace(/\+[1-9]\d{6,14}/g, (n) => maskPhone(n));
}
