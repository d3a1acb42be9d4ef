/**
 * Enrolment links through the admin function's real Lambda entry (`functions/admin/lambda.ts`), wired from
 * the environment the stack sets: `POST /v1/users/{id}/enrolment-links` mails the link by the tenant's SES
 * e-mail provider, and the link leads to `PORTAL_URL`, as on the local stack. AWS is dynalite for DynamoDB and
 * a small loopback stand-in for SES (and for anything else the entry might call, which answers 400).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { ENV } from '../../functions/contracts/env.ts';
import { type CloudFixture, startCloud, TABLE } from '../support/cloud.ts';
import { httpApiEvent } from '../support/lambda-event.ts';

const PORTAL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/portal';

let cloud: CloudFixture;
let aws: Server;
const sesCalls: Array<{ path: string; body: string }> = [];
let handler: (event: LambdaEvent, context: Context) => Promise<{ statusCode: number; body: string }>;
const saved = { ...process.env };

beforeAll(async () => {
  cloud = await startCloud();
  aws = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/v2/email/outbound-emails') {
        sesCalls.push({ path: req.url, body });
        res.end(JSON.stringify({ MessageId: `m-${sesCalls.length}` }));
        return;
      }
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: `no ${req.url}` }));
    });
  });
  await new Promise<void>((resolve) => aws.listen(0, '127.0.0.1', resolve));
  const standIn = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Every AWS call goes to loopback: DynamoDB to dynalite, the rest to the stand-in.
    AWS_ENDPOINT_URL: standIn,
    AWS_ENDPOINT_URL_DYNAMODB: cloud.dynamoEndpoint,
    [ENV.tableName]: TABLE,
    [ENV.credentialKeyArn]: 'arn:aws:kms:eu-west-1:000000000000:key/test',
    [ENV.iotEndpoint]: '127.0.0.1:9',
    [ENV.agentPolicyName]: 'test-agent-policy',
    [ENV.stage]: 'dev',
    [ENV.portalUrl]: PORTAL,
  });
  ({ handler } = (await import('../../functions/admin/lambda.ts')) as unknown as { handler: typeof handler });
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => aws?.close(resolve));
  await cloud?.close();
});

const call = async (method: string, path: string, body?: unknown) => {
  const reply = await handler(
    httpApiEvent(method, path, body === undefined ? undefined : JSON.stringify(body), {
      authorization: `Bearer ${cloud.seed.keys.admin}`,
      'content-type': 'application/json',
    }),
    {} as Context,
  );
  // biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
  return { status: reply.statusCode, body: JSON.parse(reply.body) as any };
};

async function putUser(username: string, fields: Record<string, unknown>) {
  await cloud.dynamo.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: marshall(
        { ...userItem('acme', username), tenantId: 'acme', username, secondaryMobile: null, ...fields },
        { removeUndefinedValues: true },
      ),
    }),
  );
}

describe('enrolment links in the AWS admin function', () => {
  it('says there is no e-mail provider until the tenant has one (the route is served)', async () => {
    await putUser('ivan', { mobile: '+4520300061', mobileType: 'mobile', email: 'ivan@corp.example.test' });
    const sent = await call('POST', '/v1/users/ivan/enrolment-links', {});
    expect([sent.status, sent.body.error?.code]).toEqual([503, 'delivery_unavailable']);
    expect(sesCalls).toHaveLength(0);
  });

  it('mails the link by the tenant’s SES provider, leading to the portal URL the stack set', async () => {
    const provider = await call('POST', '/v1/providers', {
      name: 'mail',
      kind: 'email',
      params: { transport: 'ses', from: 'Acme login <no-reply@acme.example.test>' },
    });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    const sent = await call('POST', '/v1/users/ivan/enrolment-links', {});
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ username: 'ivan', missing: ['secondaryMobile'] });
    expect(JSON.stringify(sent.body)).not.toContain('token=');
    expect(sesCalls).toHaveLength(1);
    const mail = JSON.parse(sesCalls[0]!.body) as {
      Destination: { ToAddresses: string[] };
      Content: { Simple: { Body: { Text: { Data: string } } } };
    };
    expect(mail.Destination.ToAddresses).toEqual(['ivan@corp.example.test']);
    const text = mail.Content.Simple.Body.Text.Data;
    expect(text).toMatch(
      new RegExp(`${PORTAL.replaceAll('.', '\\.')}/enrol\\?tenant=acme&token=[A-Za-z0-9_-]{43}`),
    );
  });
});
