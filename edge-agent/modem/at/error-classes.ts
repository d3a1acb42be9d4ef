/**
 * Sorts `+CMS ERROR` and `+CME ERROR` codes into what the pool should do, in the spirit of the tables in
 * Gammu (`atgen.c`) and Kannel (`at2`):
 *
 * - `permanent`: the network refuses this message or this destination; another modem will not help.
 * - `temporary`: congestion, timeouts, a busy SIM; try again, on this modem or another.
 * - `modem`: the SIM, the subscription or the equipment is unusable; take the modem out.
 *
 * CMS 1–127 are RP causes (3GPP TS 24.011 Annex E-2), 128–255 TP-FCS (TS 23.040 §9.2.3.22),
 * 300–340 and 500 come from TS 27.005 §3.2.5; 512 and up are vendor codes.
 */
import type { ModemErrorKind } from './errors.ts';

interface Entry {
  kind: ModemErrorKind;
  text: string;
}

const CMS: Record<number, Entry> = {
  1: { kind: 'permanent', text: 'unassigned number' },
  8: { kind: 'modem', text: 'operator determined barring' },
  10: { kind: 'permanent', text: 'call barred' },
  17: { kind: 'temporary', text: 'network failure' },
  21: { kind: 'permanent', text: 'short message transfer rejected' },
  22: { kind: 'temporary', text: 'congestion' },
  27: { kind: 'temporary', text: 'destination out of service' },
  28: { kind: 'permanent', text: 'unidentified subscriber' },
  29: { kind: 'permanent', text: 'facility rejected' },
  30: { kind: 'permanent', text: 'unknown subscriber' },
  38: { kind: 'temporary', text: 'network out of order' },
  41: { kind: 'temporary', text: 'temporary failure' },
  42: { kind: 'temporary', text: 'congestion' },
  47: { kind: 'temporary', text: 'resources unavailable' },
  50: { kind: 'modem', text: 'requested facility not subscribed' },
  69: { kind: 'permanent', text: 'requested facility not implemented' },
  81: { kind: 'temporary', text: 'invalid short message transfer reference' },
  95: { kind: 'temporary', text: 'invalid message' },
  96: { kind: 'permanent', text: 'invalid mandatory information' },
  97: { kind: 'temporary', text: 'message type non-existent' },
  98: { kind: 'temporary', text: 'message not compatible with protocol state' },
  99: { kind: 'temporary', text: 'information element non-existent' },
  111: { kind: 'temporary', text: 'protocol error' },
  127: { kind: 'temporary', text: 'interworking unspecified' },
  128: { kind: 'permanent', text: 'telematic interworking not supported' },
  129: { kind: 'permanent', text: 'short message type 0 not supported' },
  130: { kind: 'permanent', text: 'cannot replace short message' },
  143: { kind: 'permanent', text: 'unspecified TP-PID error' },
  144: { kind: 'permanent', text: 'data coding scheme not supported' },
  145: { kind: 'permanent', text: 'message class not supported' },
  159: { kind: 'permanent', text: 'unspecified TP-DCS error' },
  160: { kind: 'permanent', text: 'command cannot be actioned' },
  161: { kind: 'permanent', text: 'command unsupported' },
  175: { kind: 'permanent', text: 'unspecified TP-Command error' },
  176: { kind: 'permanent', text: 'TPDU not supported' },
  192: { kind: 'temporary', text: 'SC busy' },
  193: { kind: 'modem', text: 'no SC subscription' },
  194: { kind: 'temporary', text: 'SC system failure' },
  195: { kind: 'permanent', text: 'invalid SME address' },
  196: { kind: 'permanent', text: 'destination SME barred' },
  197: { kind: 'temporary', text: 'SM rejected, duplicate SM' },
  198: { kind: 'permanent', text: 'TP-VPF not supported' },
  199: { kind: 'permanent', text: 'TP-VP not supported' },
  208: { kind: 'modem', text: 'SIM SMS storage full' },
  209: { kind: 'modem', text: 'no SMS storage capability in SIM' },
  210: { kind: 'modem', text: 'error in MS' },
  211: { kind: 'temporary', text: 'memory capacity exceeded' },
  212: { kind: 'modem', text: 'SIM application toolkit busy' },
  213: { kind: 'modem', text: 'SIM data download error' },
  255: { kind: 'temporary', text: 'unspecified error cause' },
  300: { kind: 'modem', text: 'ME failure' },
  301: { kind: 'temporary', text: 'SMS service of ME reserved' },
  302: { kind: 'modem', text: 'operation not allowed' },
  303: { kind: 'modem', text: 'operation not supported' },
  304: { kind: 'permanent', text: 'invalid PDU mode parameter' },
  305: { kind: 'permanent', text: 'invalid text mode parameter' },
  310: { kind: 'modem', text: 'SIM not inserted' },
  311: { kind: 'modem', text: 'SIM PIN required' },
  312: { kind: 'modem', text: 'PH-SIM PIN required' },
  313: { kind: 'modem', text: 'SIM failure' },
  314: { kind: 'temporary', text: 'SIM busy' },
  315: { kind: 'modem', text: 'SIM wrong' },
  316: { kind: 'modem', text: 'SIM PUK required' },
  317: { kind: 'modem', text: 'SIM PIN2 required' },
  318: { kind: 'modem', text: 'SIM PUK2 required' },
  320: { kind: 'modem', text: 'memory failure' },
  321: { kind: 'modem', text: 'invalid memory index' },
  322: { kind: 'modem', text: 'memory full' },
  330: { kind: 'modem', text: 'SMSC address unknown' },
  331: { kind: 'modem', text: 'no network service' },
  332: { kind: 'temporary', text: 'network timeout' },
  340: { kind: 'temporary', text: 'no +CNMA acknowledgement expected' },
  500: { kind: 'temporary', text: 'unknown error' },
};

const CME: Record<number, Entry> = {
  0: { kind: 'modem', text: 'phone failure' },
  1: { kind: 'modem', text: 'no connection to phone' },
  2: { kind: 'modem', text: 'phone adaptor link reserved' },
  3: { kind: 'modem', text: 'operation not allowed' },
  4: { kind: 'modem', text: 'operation not supported' },
  5: { kind: 'modem', text: 'PH-SIM PIN required' },
  10: { kind: 'modem', text: 'SIM not inserted' },
  11: { kind: 'modem', text: 'SIM PIN required' },
  12: { kind: 'modem', text: 'SIM PUK required' },
  13: { kind: 'modem', text: 'SIM failure' },
  14: { kind: 'temporary', text: 'SIM busy' },
  15: { kind: 'modem', text: 'SIM wrong' },
  16: { kind: 'modem', text: 'incorrect password' },
  17: { kind: 'modem', text: 'SIM PIN2 required' },
  18: { kind: 'modem', text: 'SIM PUK2 required' },
  20: { kind: 'modem', text: 'memory full' },
  23: { kind: 'modem', text: 'memory failure' },
  24: { kind: 'permanent', text: 'text string too long' },
  25: { kind: 'permanent', text: 'invalid characters in text string' },
  26: { kind: 'permanent', text: 'dial string too long' },
  27: { kind: 'permanent', text: 'invalid characters in dial string' },
  30: { kind: 'modem', text: 'no network service' },
  31: { kind: 'temporary', text: 'network timeout' },
  32: { kind: 'modem', text: 'network not allowed, emergency calls only' },
  100: { kind: 'temporary', text: 'unknown error' },
  103: { kind: 'modem', text: 'illegal MS' },
  106: { kind: 'modem', text: 'illegal ME' },
  111: { kind: 'modem', text: 'PLMN not allowed' },
  112: { kind: 'modem', text: 'location area not allowed' },
  113: { kind: 'modem', text: 'roaming not allowed in this location area' },
};

export function classifyCms(code: number): Entry {
  const known = CMS[code];
  if (known) return known;
  // Unlisted TP-FCS values concern the message itself; unlisted RP causes and vendor codes may clear up.
  if (code >= 128 && code <= 255) return { kind: 'permanent', text: 'TP failure' };
  return { kind: 'temporary', text: code >= 512 ? 'manufacturer specific' : 'unlisted cause' };
}

export function classifyCme(code: number): Entry {
  const known = CME[code];
  if (known) return known;
  // 40–48 are network/corporate personalisation locks: the SIM is unusable here.
  if (code >= 40 && code <= 48) return { kind: 'modem', text: 'personalisation PIN or PUK required' };
  return { kind: 'temporary', text: 'unlisted cause' };
}
