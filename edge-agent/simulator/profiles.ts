/**
 * How the simulated modem introduces itself and words the replies where real modems differ. The non-generic
 * profiles answer as modems recorded in Gammu's test suite (gammu/gammu, `tests/at-*`), whose transcripts are
 * kept under test/edge-agent/modem/fixtures/; a test checks the simulator against them. Only the replies named
 * beside each profile are recorded; its identification strings are the simulator's own (`simulated`).
 */

export interface SimulatorProfile {
  manufacturer: string;
  model: string;
  revision: string;
  /** The `+CREG:` line of `AT+CREG?` for presentation mode `n` and status `stat`. */
  creg(n: number, stat: number): string;
  /** Registered on a visited network (stat 5) rather than at home (stat 1). */
  roaming: boolean;
  /** The answer to `AT+CPMS=?`. */
  cpmsTest: string;
  /** The answer to `AT+CNMI=?`; a set outside these ranges gets `+CMS ERROR: 303`. */
  cnmiTest: string;
  /** Vendor commands it takes with a plain OK (e.g. Huawei's `^CURC`). */
  vendorCommands: readonly string[];
}

const GENERIC: SimulatorProfile = {
  manufacturer: 'SMSPass',
  model: 'GSM-SIM-1',
  revision: 'Revision: SIM-1.0',
  creg: (n, stat) => `+CREG: ${n},${stat}`,
  roaming: false,
  cpmsTest: '+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',
  cnmiTest: '+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)',
  vendorCommands: [],
};

export const SIMULATOR_PROFILES = {
  generic: GENERIC,
  // tests/at-creg/huawei.dump (AT+CREG? with n=2: LAC and cell id unquoted) and tests/at-cpms/brovi-e3372-325.dump
  'huawei-e3372': {
    manufacturer: 'huawei',
    model: 'E3372',
    revision: 'simulated',
    creg: (n, stat) => (n === 2 ? `+CREG: 2,${stat},4CA,81DE445` : `+CREG: ${n},${stat}`),
    roaming: false,
    cpmsTest: '+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',
    cnmiTest: GENERIC.cnmiTest,
    vendorCommands: ['^CURC'],
  },
  // tests/at-creg/telit.dump: location and access technology even with n=0
  telit: {
    ...GENERIC,
    manufacturer: 'Telit',
    model: 'simulated',
    revision: 'simulated',
    creg: (n, stat) => `+CREG: ${n},${stat},"5E25","605F",2`,
  },
  // tests/at-creg/sierra312u.dump: roaming (stat 5), n=2 with quoted LAC and cell id
  'sierra-312u': {
    ...GENERIC,
    manufacturer: 'Sierra Wireless, Incorporated',
    model: '312U',
    revision: 'simulated',
    creg: (n, stat) => (n === 2 ? `+CREG: 2,${stat},"2AF5","0B88E350",2` : `+CREG: ${n},${stat}`),
    roaming: true,
  },
} satisfies Record<string, SimulatorProfile>;

export type SimulatorProfileName = keyof typeof SIMULATOR_PROFILES;

export function isSimulatorProfile(name: string): name is SimulatorProfileName {
  return Object.hasOwn(SIMULATOR_PROFILES, name);
}

/** `(0-2),(0,1,3),(0)` → the allowed values of each field. */
export function parseRanges(test: string): Array<Set<number>> {
  const fields = test.replace(/^\+[A-Z]+:\s*/i, '').match(/\(([^)]*)\)/g) ?? [];
  return fields.map((field) => {
    const allowed = new Set<number>();
    for (const part of field.slice(1, -1).split(',')) {
      const [lo, hi] = part.split('-').map((v) => Number(v.trim()));
      if (lo === undefined || Number.isNaN(lo)) continue;
      for (let v = lo; v <= (hi === undefined || Number.isNaN(hi) ? lo : hi); v++) allowed.add(v);
    }
    return allowed;
  });
}
