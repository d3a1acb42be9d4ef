/**
 * The stack's wiring of what the portal needs in AWS: the admin function knows the portal's URL and may send
 * the enrolment link's mail through SES (as dispatch may), and the web function, whose reset pages ask the
 * tenant's AD agent, may publish on the agents' rpc/req topics and nothing else of IoT's data plane.
 */
import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { SmsPassStack } from '../../cdk/stack.ts';
import { SET_PASSWORD_TIMEOUT_MS } from '../../functions/core/password-reset.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

let stack: SmsPassStack;
let template: Template;
const logicalId = (element: unknown) => stack.getLogicalId(element as CfnElement);

function statementsOf(fn: lambda.Function): Statement[] {
  const roleId = logicalId(fn.role!.node.defaultChild);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}
const envOf = (fn: lambda.Function) =>
  template.findResources('AWS::Lambda::Function')[logicalId(fn.node.defaultChild)]?.Properties.Environment
    .Variables as Record<string, unknown>;

beforeAll(() => {
  const app = new App({ context: cdkJson.context });
  stack = new SmsPassStack(app, 'TestStack', {
    functionCode: () => lambda.Code.fromInline('export const handler = async () => ({});'),
    iotEndpoint: 'example-ats.iot.eu-west-1.amazonaws.com',
  });
  template = Template.fromStack(stack);
}, 120_000);

describe('the portal’s wiring in the stack', () => {
  it('tells the admin function the portal URL of this API, for the enrolment links it mails', () => {
    const apiId = logicalId(stack.api.node.defaultChild);
    expect(JSON.stringify(envOf(stack.functions.admin).PORTAL_URL)).toMatch(
      new RegExp(`"${apiId}","ApiEndpoint".*"/portal"`),
    );
  });

  it('lets the admin function send mail through SES, as dispatch does', () => {
    const ses = (fn: lambda.Function) =>
      statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('ses:')));
    expect(ses(stack.functions.admin)).toEqual(ses(stack.functions.dispatch));
    expect(ses(stack.functions.admin)).toHaveLength(1);
  });

  it('lets the web function publish on the agents’ rpc/req topics only, with the endpoint and stage to do it', () => {
    const publish = statementsOf(stack.functions.web).filter((s) =>
      actionsOf(s).some((a) => a === 'iot:Publish' || a === '*'),
    );
    expect(publish).toHaveLength(1);
    expect(actionsOf(publish[0]!)).toEqual(['iot:Publish']);
    expect(JSON.stringify(publish[0]!.Resource)).toMatch(/:topic\/s\/dev\/t\/\*\/a\/\*\/rpc\/req"/);
    expect(envOf(stack.functions.web)).toMatchObject({
      IOT_ENDPOINT: 'example-ats.iot.eu-west-1.amazonaws.com',
      STAGE: 'dev',
    });
  });

  it('gives the functions that set AD passwords more time than the wait for the agent, within API Gateway’s 30 s', () => {
    for (const fn of [stack.functions.selfservice, stack.functions.web]) {
      const timeout = template.findResources('AWS::Lambda::Function')[logicalId(fn.node.defaultChild)]
        ?.Properties.Timeout as number;
      expect(timeout * 1000).toBeGreaterThan(SET_PASSWORD_TIMEOUT_MS);
      expect(timeout).toBeLessThanOrEqual(30);
    }
  });
});
