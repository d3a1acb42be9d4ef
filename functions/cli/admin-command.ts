/**
 * What `npm run admin -- <command>` (functions/cli/admin.ts) does: console accounts from a shell, for the first operator of a deployment (nobody
 * can sign in yet to make one) and for an operator who lost their phone. It writes through the same
 * AdminAccountManager as the operator API and the console, with the caller's own credentials: on AWS the
 * deployer's (DynamoDB access to the stage's table is the permission), on the local stack none.
 *
 *   create-operator --email ADDRESS [--sms-tenant ID --sms-user NAME]
 *   reset --email ADDRESS
 *   list [--tenant ID]
 * Targets: the running local stack (`.local/stack.json`, or SMSPASS_DATA_DIR), or AWS with
 * `--stack SmsPass-<stage>` and the outputs file `cdk deploy --outputs-file cdk-outputs.json` wrote
 * (`--outputs`), or AWS with `--table NAME --url API_URL`. `--json` prints the reply as JSON.
 */

import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { adminAccountManager } from '../admin-account-deps.ts';
import { type AccountActor, type SetUpLink, setUpPath } from '../core/admin-account-management.ts';
import { NO_TENANT } from '../core/web-sessions.ts';
import { localDynamo } from '../local/aws-local.ts';

export const USAGE = `Usage: npm run admin -- <command> [options]
  create-operator --email ADDRESS [--sms-tenant ID --sms-user NAME]
                          a new operator account; prints its set-up link once
  reset --email ADDRESS   takes the password and second factor away; prints a new set-up link
  list [--tenant ID]      the operators (or a tenant's admins)
Target (default: the local stack in .local/, or SMSPASS_DATA_DIR):
  --stack SmsPass-<stage> [--outputs cdk-outputs.json]   AWS, with your AWS credentials
  --table NAME --url API_URL                             AWS, named directly
  --json                                                 print the reply as JSON`;

export class UsageError extends Error {}

interface Target {
  dynamo: DynamoDBClient;
  table: string;
  /** The console's base URL, for the set-up link. */
  adminUrl: string;
}

function targetOf(values: Record<string, string | boolean | undefined>): Target {
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const stack = str('stack');
  if (stack) {
    const file = resolve(str('outputs') ?? 'cdk-outputs.json');
    const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
    const mine = outputs[stack];
    if (!mine?.TableName || !mine.ApiUrl)
      throw new UsageError(`${file} has no TableName and ApiUrl for ${stack}`);
    return {
      dynamo: new DynamoDBClient({}),
      table: mine.TableName,
      adminUrl: `${mine.ApiUrl.replace(/\/$/, '')}/admin`,
    };
  }
  const table = str('table');
  const url = str('url');
  if (table || url) {
    if (!table || !url) throw new UsageError('--table and --url go together');
    return { dynamo: new DynamoDBClient({}), table, adminUrl: `${url.replace(/\/$/, '')}/admin` };
  }
  const dir = resolve(process.env.SMSPASS_DATA_DIR ?? '.local');
  let json: { adminUrl?: string; dynamoEndpoint?: string };
  try {
    json = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'));
  } catch {
    throw new UsageError(`no local stack in ${dir}: start it with npm start, or name an AWS target`);
  }
  if (!json.dynamoEndpoint || !json.adminUrl)
    throw new UsageError(`${dir}/stack.json is from an older local stack: start it again with npm start`);
  return { dynamo: localDynamo(json.dynamoEndpoint), table: 'smspass', adminUrl: json.adminUrl };
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], print: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      'sms-tenant': { type: 'string' },
      'sms-user': { type: 'string' },
      tenant: { type: 'string' },
      stack: { type: 'string' },
      outputs: { type: 'string' },
      table: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    print(USAGE);
    return values.help ? 0 : 2;
  }
  const target = targetOf(values);
  const manager = adminAccountManager(target);
  const by: AccountActor = { role: 'operator', tenantId: NO_TENANT, actor: `cli:${who()}` };
  const linkOf = (setUp: SetUpLink) => ({
    setUpUrl: `${target.adminUrl}${setUpPath(setUp.token)}`,
    expiresAt: setUp.expiresAt,
  });
  const email = () => {
    if (!values.email) throw new UsageError(`${command} needs --email`);
    return values.email;
  };

  switch (command) {
    case 'create-operator':
    case 'reset': {
      const sms = values['sms-user'] !== undefined || values['sms-tenant'] !== undefined;
      const smsChoice = {
        ...(sms && { secondFactor: 'sms' as const }),
        smsUsername: values['sms-user'],
        smsTenantId: values['sms-tenant'],
      };
      const made =
        command === 'reset'
          ? await manager.resetSignIn(by, email(), smsChoice)
          : await manager.invite(by, { email: email(), role: 'operator', ...smsChoice });
      const link = linkOf(made.setUp);
      if (values.json) print(JSON.stringify({ account: made.account, ...link }));
      else
        print(
          `${command === 'reset' ? 'Sign-in reset for' : 'Operator account created:'} ${made.account.email} ` +
            `(second factor: ${made.account.secondFactor === 'sms' ? `SMS to ${made.account.sms?.username} of ${made.account.sms?.tenantId}` : 'authenticator app'}).\n` +
            `Open this set-up link to choose the password${made.account.secondFactor === 'totp' ? ' and enrol the authenticator app' : ''}. ` +
            `It works once, until ${link.expiresAt}, and is not shown again:\n\n  ${link.setUpUrl}\n`,
        );
      return 0;
    }
    case 'list': {
      const items = await manager.list(by, values.tenant ?? NO_TENANT);
      if (values.json) print(JSON.stringify({ items }));
      else for (const a of items) print(`${a.email}\t${a.role}\t${a.secondFactor}\t${a.state}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}
