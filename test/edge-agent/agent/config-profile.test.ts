/** `modems[].profile`: a modem profile by name, or `auto` (the driver picks it from the modem's identity). */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../edge-agent/config.ts';
import { ModemPool } from '../../../edge-agent/modem/pool/pool.ts';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';

const base = {
  tenantId: 'acme',
  agentId: 'box-1',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'acme.box-1', password: 'secret' },
  stateDir: './state',
};

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, '/etc/edge-agent');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

let sim: RunningSimulator | undefined;
let pool: ModemPool | undefined;
afterEach(async () => {
  await pool?.close();
  await sim?.close();
  pool = undefined;
  sim = undefined;
});

describe('modem profile in the configuration', () => {
  it('defaults to auto and takes a known profile name', () => {
    const config = parseConfig(
      {
        ...base,
        modems: [
          { id: 'a', group: 'g', url: 'tcp://10.0.0.5:4001' },
          { id: 'b', group: 'g', url: '/dev/ttyUSB0', profile: 'quectel' },
        ],
      },
      '/etc/edge-agent',
    );
    expect(config.modems.map((m) => m.profile)).toEqual(['auto', 'quectel']);
  });

  it('names the field and the choices for an unknown profile', () => {
    expect(
      issuesOf({ ...base, modems: [{ id: 'a', group: 'g', url: 'tcp://10.0.0.5:4001', profile: 'nokia' }] }),
    ).toEqual(['modems[0].profile: must be one of auto, generic, quectel, simcom, huawei']);
  });

  it('auto picks the profile from the modem identity; a configured one wins over it', async () => {
    sim = await startSimulator({ name: 'hw', profile: 'huawei-e3372', sendDelayMs: 0 });
    const configs = parseConfig({ ...base, modems: [{ id: 'hw', group: 'g', url: sim.url }] }).modems;
    pool = new ModemPool(configs, { statusIntervalMs: 0 });
    await pool.start();
    // the Huawei profile switches its periodic URCs off
    const typed = sim.transcript.filter((e) => e.dir === 'in').map((e) => e.data.trim());
    expect(typed).toContain('AT^CURC=0');
    expect(
      await pool.send({ to: '+4520123456', text: 'hello', flash: false, modemGroup: 'g' }),
    ).toMatchObject({
      ok: true,
    });
    await pool.close();

    sim.transcript.splice(0);
    pool = new ModemPool([{ ...configs[0]!, profile: 'generic' }], { statusIntervalMs: 0 });
    await pool.start();
    expect(sim.transcript.filter((e) => e.dir === 'in').map((e) => e.data.trim())).not.toContain('AT^CURC=0');
  });
});
