/**
 * A large sync `complete` goes through the jobs queue in AWS: the sync function may only send to it (its URL in
 * the environment), and the operator function consumes it, so a frozen sync Lambda cannot stall the removal.
 * Enrolment signs certificates with the one IoT action that takes no resource: it is kept to the stack's region.
 */
import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, expect, it } from 'vitest';
import { SmsPassStack } from '../../cdk/stack.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

let stack: SmsPassStack;
let template: Template;
beforeAll(() => {
  const app = new App({ context: cdkJson.context });
  stack = new SmsPassStack(app, 'SyncJobsStack', {
    functionCode: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  template = Template.fromStack(stack);
}, 300_000);

it('lets the sync function send to the jobs queue only, which the operator function consumes', () => {
  const id = (element: unknown) => stack.getLogicalId(element as CfnElement);
  const jobsQueue = id(stack.jobs.queue.node.defaultChild);
  const statementsOf = (fn: lambda.Function) => {
    const roleId = id(fn.role!.node.defaultChild);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  };
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

  const sync = template.findResources('AWS::Lambda::Function')[id(stack.functions.sync.node.defaultChild)];
  expect(sync?.Properties.Environment.Variables.JOBS_QUEUE_URL).toEqual({ Ref: jobsQueue });
  const sqsGrants = statementsOf(stack.functions.sync).filter((s) =>
    actions(s).some((a) => a.startsWith('sqs:')),
  );
  expect(sqsGrants).toHaveLength(1);
  expect(JSON.stringify(sqsGrants[0]?.Resource)).toContain(jobsQueue);
  // it sends; it never receives or deletes (the operator function is the queue's one consumer)
  expect(
    actions(sqsGrants[0]!).every((a) => /^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/.test(a)),
  ).toBe(true);

  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter((m) =>
    JSON.stringify(m.Properties.EventSourceArn).includes(jobsQueue),
  );
  expect(mappings.map((m) => m.Properties.FunctionName)).toEqual([
    { Ref: id(stack.functions.operator.node.defaultChild) },
  ]);
});

it('scopes CreateCertificateFromCsr as tightly as IAM allows: any resource, this region only', () => {
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Statement & { Condition?: unknown }>)
    .filter((s) => [s.Action].flat().includes('iot:CreateCertificateFromCsr'));
  expect(statements.length).toBeGreaterThan(0);
  for (const s of statements) {
    // alone in its statement, so the wildcard grants nothing else
    expect([s.Action].flat()).toEqual(['iot:CreateCertificateFromCsr']);
    expect(s.Resource).toBe('*');
    expect(s.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } });
  }
});
