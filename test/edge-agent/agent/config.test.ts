import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, readMqttCredentials } from '../../../edge-agent/config.ts';

const valid = {
  tenantId: 'acme',
  agentId: 'box-1',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'acme.box-1', password: 'secret' },
  stateDir: './state',
  modems: [
    { id: 'm1', group: 'carrierA', url: 'tcp://10.0.0.5:4001' },
    { id: 'm2', group: 'carrierA', url: '/dev/ttyUSB0', pin: '1234', mode: 'pdu' },
  ],
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

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'agent-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('agent configuration', () => {
  it('accepts a valid config, fills defaults and resolves paths against the config folder', () => {
    const config = parseConfig(valid, '/etc/edge-agent');
    expect(config.stateDir).toBe('/etc/edge-agent/state');
    expect(config.statusIntervalSeconds).toBe(60);
    expect(config.mqtt.protocolVersion).toBe(4);
    expect(config.log.level).toBe('info');
    expect(config.modems[0]!.mode).toBe('auto');
  });

  it('names every bad field by its path', () => {
    const issues = issuesOf({
      ...valid,
      tenantId: 'acme/evil',
      mqtt: { url: 'http://broker', password: 'x', passwordFile: 'pw.txt', protocolVersion: 3 },
      statusIntervalSeconds: 'often',
      modems: [valid.modems[0], { id: 'm1', group: '', url: 'ttyUSB0', pin: 'abcd', mode: 'fast' }],
      colour: 'blue',
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tenantId: /),
        expect.stringMatching(/^mqtt\.url: must be mqtt:\/\/host:port or mqtts:\/\/host:port/),
        expect.stringMatching(/^mqtt\.protocolVersion: must be 4/),
        expect.stringMatching(/^statusIntervalSeconds: /),
        'modems[1].url: must be tcp://host:port or a serial device path',
        expect.stringMatching(/^modems\[1\]\.group: /),
        expect.stringMatching(/^modems\[1\]\.pin: must be 4 to 8 digits/),
        expect.stringMatching(/^modems\[1\]\.mode: /),
        expect.stringMatching(/colour/),
      ]),
    );
  });

  it('checks the fields that depend on each other', () => {
    expect(issuesOf({ ...valid, mqtt: { url: 'mqtt://b:1883', password: 'x', passwordFile: 'f' } })).toEqual(
      expect.arrayContaining([
        'mqtt.passwordFile: give either password or passwordFile',
        'mqtt.username: required unless cert and key are given',
      ]),
    );
    expect(issuesOf({ ...valid, mqtt: { url: 'mqtt://b:1883', cert: 'c.pem', key: 'k.pem' } })).toEqual([
      'mqtt.url: a client certificate needs an mqtts:// url',
    ]);
    expect(issuesOf({ ...valid, mqtt: { url: 'mqtts://b:8883', cert: 'c.pem' } })).toEqual([
      'mqtt.key: cert and key go together',
    ]);
    expect(issuesOf({ ...valid, modems: [valid.modems[0], valid.modems[0]] })).toEqual([
      'modems[1].id: duplicate modem id "m1"',
    ]);
  });

  it('reads YAML and JSON by extension and reports a file that is neither', async () => {
    const yamlFile = path.join(dir, 'agent.yaml');
    await writeFile(
      yamlFile,
      [
        'tenantId: acme',
        'agentId: box-1',
        'mqtt:',
        '  url: mqtts://example-ats.iot.eu-west-1.amazonaws.com:8883',
        '  cert: certs/agent.pem',
        '  key: certs/agent.key',
        '  ca: certs/root.pem',
        '  protocolVersion: 5',
        'stateDir: /var/lib/edge-agent',
        'modems:',
        '  - { id: m1, group: carrierA, url: "serial:///dev/ttyUSB0?baud=115200" }',
        'log: { level: debug }',
      ].join('\n'),
    );
    const config = await loadConfig(yamlFile);
    expect(config.mqtt.cert).toBe(path.join(dir, 'certs/agent.pem'));
    expect(config.mqtt.protocolVersion).toBe(5);

    const jsonFile = path.join(dir, 'agent.json');
    await writeFile(jsonFile, JSON.stringify(valid));
    expect((await loadConfig(jsonFile)).agentId).toBe('box-1');

    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"tenantId": ');
    await expect(loadConfig(broken)).rejects.toThrow(ConfigError);
    await expect(loadConfig(path.join(dir, 'agent.toml'))).rejects.toThrow(ConfigError);
  });

  it('reads the password file and names it when it is missing', async () => {
    await writeFile(path.join(dir, 'pw.txt'), 's3cret\n');
    const config = parseConfig(
      { ...valid, mqtt: { url: 'mqtt://b:1883', username: 'u', passwordFile: 'pw.txt' } },
      dir,
    );
    expect((await readMqttCredentials(config.mqtt)).password).toBe('s3cret');
    const missing = parseConfig(
      { ...valid, mqtt: { url: 'mqtt://b:1883', username: 'u', passwordFile: 'nope.txt' } },
      dir,
    );
    await expect(readMqttCredentials(missing.mqtt)).rejects.toThrow(/mqtt\.passwordFile: cannot read/);
  });
});
