/**
 * Which numbers a passcode may go to: mobile numbers in a country the tenant allows. Premium-rate, shared-cost
 * and other non-mobile numbers are refused, as the defence against SMS pumping. A type stored with the user
 * (classified with full metadata when the number was saved) wins; otherwise the "mobile" metadata decides,
 * which knows only mobile patterns and so keeps the auth bundle small.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { NoDeliveryRouteError } from './errors.ts';
import type { PhoneType } from './model.ts';

const MOBILE_TYPES: ReadonlySet<PhoneType> = new Set(['mobile', 'fixed_line_or_mobile']);

export type DestinationRefusal = 'not_mobile' | 'country_not_allowed' | 'unparsable';

export class DestinationRefusedError extends NoDeliveryRouteError {
  constructor(readonly reason: DestinationRefusal) {
    super(
      reason === 'country_not_allowed'
        ? "The user's number is in a country this tenant does not send passcodes to."
        : "The user's number is not a mobile number a passcode can be sent to.",
    );
  }
}

export function checkDestination(
  e164: string,
  allowedCountries: readonly string[],
  storedType?: PhoneType,
): { country: string } {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) throw new DestinationRefusedError('unparsable');
  const mobile = storedType
    ? MOBILE_TYPES.has(storedType)
    : parsed.isValid() && parsed.getType() === 'MOBILE';
  if (!mobile || !parsed.country) throw new DestinationRefusedError('not_mobile');
  if (!allowedCountries.includes(parsed.country)) throw new DestinationRefusedError('country_not_allowed');
  return { country: parsed.country };
}
