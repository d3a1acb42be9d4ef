/**
 * The AWS IoT adapter's calls, recorded by a middleware at the front of the real IoT client's stack (no
 * network, no credentials used): the thing's legal name and attributes, the certificate from the CSR, the
 * policy and thing attachments on enrolment, and deactivate, detach, delete on revocation; suspension
 * deactivates a tenant's certificates and resume activates them.
 */
import { IoTClient } from '@aws-sdk/client-iot';
import { describe, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { IotAgentIdentities, IotAgentSessions } from '../../functions/adapters/iot/iot-identities.ts';
import { THING_NAME_PATTERN, thingName } from '../../functions/contracts/topics.ts';
import type { Agent } from '../../functions/core/model.ts';

const ARN = 'arn:aws:iot:eu-west-1:123456789012:cert/0123abcd';

function recordingClient(fail?: string, times = Number.POSITIVE_INFINITY) {
  let failures = 0;
  const calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  const iot = new IoTClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-used' },
  });
  iot.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = String(context.commandName);
      calls.push({ command, input: args.input as Record<string, unknown> });
      if (command === fail && failures++ < times)
        throw Object.assign(new Error('refused'), { name: 'InvalidRequestException' });
      const output =
        command === 'CreateCertificateFromCsrCommand'
          ? { certificateArn: ARN, certificateId: '0123abcd', certificatePem: 'PEM' }
          : {};
      return { output: { $metadata: {}, ...output }, response: {} };
    },
    { step: 'initialize', name: 'recorder', priority: 'high' },
  );
  return { iot, calls };
}

describe('IoT Core adapter', () => {
  it('creates a legal thing with its attributes, a certificate from the CSR, and both attachments', async () => {
    const { iot, calls } = recordingClient();
    const identities = new IotAgentIdentities(iot, {
      policyName: 'SmsPass-edge-agent',
      dataEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
    });
    const name = thingName({ stage: 'prod', tenantId: 'acme', agentId: 'branch-1' });
    expect(name).toBe('prod:acme:branch-1');
    expect(name).toMatch(THING_NAME_PATTERN);
    const { csrPem } = makeKeyAndCsr(name);
    const issued = await identities.issue({ thingName: name, tenantId: 'acme', agentId: 'branch-1', csrPem });
    expect(issued).toEqual({ certificateRef: ARN, certificatePem: 'PEM' });
    expect(calls).toEqual([
      {
        command: 'CreateThingCommand',
        input: {
          thingName: 'prod:acme:branch-1',
          attributePayload: { attributes: { tenantId: 'acme', agentId: 'branch-1' } },
        },
      },
      {
        command: 'CreateCertificateFromCsrCommand',
        input: { certificateSigningRequest: csrPem, setAsActive: true },
      },
      { command: 'AttachPolicyCommand', input: { policyName: 'SmsPass-edge-agent', target: ARN } },
      { command: 'AttachThingPrincipalCommand', input: { thingName: 'prod:acme:branch-1', principal: ARN } },
    ]);
    expect(await identities.endpoint()).toEqual({
      mqttUrl: 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883',
    });
  });

  it('deactivates the new certificate when an attachment fails', async () => {
    const { iot, calls } = recordingClient('AttachThingPrincipalCommand');
    const identities = new IotAgentIdentities(iot, { policyName: 'p', dataEndpoint: 'e' });
    const { csrPem } = makeKeyAndCsr('acme:b');
    await expect(
      identities.issue({ thingName: 'acme:b', tenantId: 'acme', agentId: 'b', csrPem }),
    ).rejects.toThrow();
    expect(calls.at(-1)).toEqual({
      command: 'UpdateCertificateCommand',
      input: { certificateId: '0123abcd', newStatus: 'INACTIVE' },
    });
  });

  it('revokes: deactivate first, then detach the policy and the thing, then delete the thing', async () => {
    const { iot, calls } = recordingClient();
    const identities = new IotAgentIdentities(iot, { policyName: 'SmsPass-edge-agent', dataEndpoint: 'e' });
    await identities.revoke({ thingName: 'prod:acme:branch-1', certificateRef: ARN });
    expect(calls).toEqual([
      { command: 'UpdateCertificateCommand', input: { certificateId: '0123abcd', newStatus: 'INACTIVE' } },
      { command: 'DetachPolicyCommand', input: { policyName: 'SmsPass-edge-agent', target: ARN } },
      { command: 'DetachThingPrincipalCommand', input: { thingName: 'prod:acme:branch-1', principal: ARN } },
      { command: 'DeleteThingCommand', input: { thingName: 'prod:acme:branch-1' } },
    ]);
  });

  it('retries the thing delete while the detach propagates, and leaves a thing still refused after that', async () => {
    const deletes = (calls: Array<{ command: string }>) =>
      calls.filter((c) => c.command === 'DeleteThingCommand').length;
    const twice = recordingClient('DeleteThingCommand', 2);
    const settings = { policyName: 'p', dataEndpoint: 'e', detachWaitsMs: [1, 1, 1] };
    await new IotAgentIdentities(twice.iot, settings).revoke({
      thingName: 'prod:acme:b',
      certificateRef: ARN,
    });
    expect(deletes(twice.calls)).toBe(3);

    // Still refused after every wait: the delete answers anyway (the certificate is inactive and detached).
    const always = recordingClient('DeleteThingCommand');
    await new IotAgentIdentities(always.iot, settings).revoke({
      thingName: 'prod:acme:b',
      certificateRef: ARN,
    });
    expect(deletes(always.calls)).toBe(4);
    expect(always.calls[0]).toEqual({
      command: 'UpdateCertificateCommand',
      input: { certificateId: '0123abcd', newStatus: 'INACTIVE' },
    });
  });

  it('suspension deactivates every enrolled agent’s certificate of the tenant, resume activates them', async () => {
    const { iot, calls } = recordingClient();
    const agents: Agent[] = [
      {
        tenantId: 'acme',
        agentId: 'a',
        secretHash: '',
        modemGroups: [],
        state: 'online',
        certificateRef: ARN,
      },
      { tenantId: 'acme', agentId: 'pending', secretHash: '', modemGroups: [], state: 'unknown' },
    ];
    const sessions = new IotAgentSessions(iot, { listAgents: async (t) => (t === 'acme' ? agents : []) });
    await sessions.disconnectTenant('acme');
    await sessions.resumeTenant('acme');
    await sessions.disconnectTenant('globex');
    expect(calls).toEqual([
      { command: 'UpdateCertificateCommand', input: { certificateId: '0123abcd', newStatus: 'INACTIVE' } },
      { command: 'UpdateCertificateCommand', input: { certificateId: '0123abcd', newStatus: 'ACTIVE' } },
    ]);
  });
});
