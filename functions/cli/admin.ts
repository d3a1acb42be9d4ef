/** `npm run admin -- <command>`: console accounts from a shell (see admin-command.ts). */
import { DomainError } from '../core/errors.ts';
import { main, USAGE, UsageError } from './admin-command.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
main(process.argv.slice(2), (line) => console.log(line)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error instanceof DomainError) console.error(`${error.code}: ${error.message}`);
    else console.error(error instanceof Error ? error.message : String(error));
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
