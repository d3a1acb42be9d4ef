/**
 * DynamoDB as AWS bills and bounds it, on top of dynalite (which counts neither index writes nor item sizes
 * past the key, and stores items over 400 KB): a client middleware that
 *
 * - refuses a write whose item would pass 400 KB with AWS's `ValidationException`;
 * - in `exact` mode, reads each written item before and after the write (on a separate, unmetered client)
 *   and charges write units as AWS does: the larger of the old and new item in 1 KB steps, a failed
 *   condition too, plus one write per index entry put, updated or deleted, sized by the index's projection;
 *   and read units from the items returned: 4 KB steps per item (per query), half for eventually consistent.
 *
 * Sizes follow DynamoDB's rules: attribute names and string/binary values by byte length, numbers by
 * significant digits, 3 bytes per list or map and 1 per element.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITION } from '../../functions/local/dynamo.ts';

export const MAX_ITEM_BYTES = 400 * 1024;
type Item = Record<string, AttributeValue>;

function numberSize(n: string): number {
  const digits = n
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1 + (n.startsWith('-') ? 1 : 0);
}

export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((a, s) => a + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((a, s) => a + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((a, b) => a + b.length, 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M)
    return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + Buffer.byteLength(k) + 1 + valueSize(e), 0);
  return 0;
}

export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((a, [k, v]) => a + Buffer.byteLength(k) + valueSize(v), 0);
}

const KB = 1024;
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

interface IndexShape {
  name: string;
  keys: string[];
  projected: (item: Item) => Item;
}

const TABLE_KEYS = ['pk', 'sk'];

/** The table's secondary indexes, read from the definition the local stack and the CDK stack share. */
export function indexShapes(gsis: GlobalSecondaryIndex[] = TABLE_DEFINITION.GlobalSecondaryIndexes ?? []) {
  return gsis.map((gsi): IndexShape => {
    const keys = (gsi.KeySchema ?? []).map((k) => k.AttributeName!);
    const type = gsi.Projection?.ProjectionType ?? 'ALL';
    const include = new Set([...TABLE_KEYS, ...keys, ...(gsi.Projection?.NonKeyAttributes ?? [])]);
    return {
      name: gsi.IndexName!,
      keys,
      projected: (item) =>
        type === 'ALL' ? item : Object.fromEntries(Object.entries(item).filter(([k]) => include.has(k))),
    };
  });
}

/** One metered call: its operation, units and the largest item it wrote. */
export interface MeteredCall {
  op: string;
  /** The item's key prefix (`CH`, `RL`, `TENANT`, …): what kind of item the units went to. */
  kind: string;
  rru: number;
  wru: number;
  /** Write units of index entries, by index. */
  indexWru: Record<string, number>;
  itemBytes: number;
}

export interface DynamoMeter {
  calls: MeteredCall[];
  maxItemBytes: number;
  reset(): void;
}

const kindOf = (key: Item | undefined) => (key?.pk?.S ?? '?').split('#')[0] ?? '?';
const keyOf = (item: Item): Item => ({ pk: item.pk!, sk: item.sk! });

function tooLarge(bytes: number) {
  const error = new Error('Item size has exceeded the maximum allowed size');
  error.name = 'ValidationException';
  return Object.assign(error, { itemBytes: bytes });
}

export function meterDynamo(
  client: DynamoDBClient,
  options: { table: string; raw?: DynamoDBClient; exact?: boolean; indexes?: IndexShape[] },
): DynamoMeter {
  const indexes = options.indexes ?? indexShapes();
  const meter: DynamoMeter = {
    calls: [],
    maxItemBytes: 0,
    reset() {
      this.calls.length = 0;
      this.maxItemBytes = 0;
    },
  };
  const raw = options.raw;
  const exact = options.exact === true && raw !== undefined;
  const read = async (key: Item) =>
    (await raw!.send(new GetItemCommand({ TableName: options.table, Key: key, ConsistentRead: true }))).Item;

  const indexWrites = (before: Item | undefined, after: Item | undefined) => {
    const out: Record<string, number> = {};
    for (const index of indexes) {
      const inIndex = (i: Item | undefined) => i !== undefined && index.keys.every((k) => i[k] !== undefined);
      const size = (i: Item) => itemSize(index.projected(i)) + 100;
      const was = inIndex(before);
      const is = inIndex(after);
      let units = 0;
      if (!was && is) units = writeUnits(size(after!));
      else if (was && !is) units = writeUnits(size(before!));
      else if (was && is) {
        const moved = index.keys.some((k) => JSON.stringify(before![k]) !== JSON.stringify(after![k]));
        const changed = JSON.stringify(index.projected(before!)) !== JSON.stringify(index.projected(after!));
        if (moved) units = writeUnits(size(before!)) + writeUnits(size(after!));
        else if (changed) units = writeUnits(Math.max(size(before!), size(after!)));
      }
      if (units > 0) out[index.name] = units;
    }
    return out;
  };

  const record = (call: MeteredCall) => {
    meter.calls.push(call);
    meter.maxItemBytes = Math.max(meter.maxItemBytes, call.itemBytes);
  };

  /** One item written (put, update or delete): its units, from its state before and after. */
  const written = async (
    op: string,
    key: Item,
    run: () => Promise<unknown>,
    check?: (after: Item) => void,
  ) => {
    const before = exact ? await read(key) : undefined;
    let failed: unknown;
    let out: unknown;
    try {
      out = await run();
    } catch (error) {
      failed = error;
    }
    const after = exact && !failed ? await read(key) : before;
    if (!failed && after && check) check(after);
    const bytes = Math.max(itemSize(before), itemSize(after));
    record({
      op,
      kind: kindOf(key),
      rru: 0,
      wru: exact ? writeUnits(bytes) : 0,
      indexWru: exact && !failed ? indexWrites(before, after) : {},
      itemBytes: itemSize(after),
    });
    if (failed) throw failed;
    return out;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName?.replace(/Command$/, '') ?? '?';
      const input = args.input as Record<string, unknown>;
      const enforce = (item: Item) => {
        const bytes = itemSize(item);
        if (bytes > MAX_ITEM_BYTES) throw tooLarge(bytes);
      };
      if (op === 'PutItem') {
        const item = input.Item as Item;
        enforce(item);
        return (await written(op, keyOf(item), () => next(args))) as Awaited<ReturnType<typeof next>>;
      }
      if (op === 'UpdateItem' || op === 'DeleteItem') {
        const key = input.Key as Item;
        // Without exact metering, the new item comes back with the write itself (and is hidden again).
        const peek = !exact && op === 'UpdateItem' && (input.ReturnValues ?? 'NONE') === 'NONE';
        if (peek) input.ReturnValues = 'ALL_NEW';
        const out = (await written(
          op,
          key,
          async () => {
            const result = await next(args);
            const attributes = (result.output as { Attributes?: Item }).Attributes;
            if (peek && attributes) {
              const bytes = itemSize(attributes);
              meter.maxItemBytes = Math.max(meter.maxItemBytes, bytes);
              if (bytes > MAX_ITEM_BYTES) throw tooLarge(bytes);
              delete (result.output as { Attributes?: Item }).Attributes;
            }
            return result;
          },
          enforce,
        )) as Awaited<ReturnType<typeof next>>;
        return out;
      }
      if (op === 'BatchWriteItem') {
        const requests =
          (input.RequestItems as Record<string, Array<Record<string, { Item?: Item; Key?: Item }>>>)[
            options.table
          ] ?? [];
        for (const r of requests) if (r.PutRequest?.Item) enforce(r.PutRequest.Item);
        const befores = exact
          ? await Promise.all(
              requests.map((r) =>
                read(r.PutRequest?.Item ? keyOf(r.PutRequest.Item) : r.DeleteRequest!.Key!),
              ),
            )
          : [];
        const result = await next(args);
        const left = (result.output as { UnprocessedItems?: Record<string, unknown[]> }).UnprocessedItems?.[
          options.table
        ];
        if (left?.length) throw new Error('the meter does not follow unprocessed batch items');
        for (const [i, r] of requests.entries()) {
          const key = r.PutRequest?.Item ? keyOf(r.PutRequest.Item) : r.DeleteRequest!.Key!;
          const after = exact ? await read(key) : r.PutRequest?.Item;
          const bytes = Math.max(itemSize(befores[i]), itemSize(after));
          record({
            op,
            kind: kindOf(key),
            rru: 0,
            wru: exact ? writeUnits(bytes) : 0,
            indexWru: exact ? indexWrites(befores[i], after) : {},
            itemBytes: itemSize(after),
          });
        }
        return result;
      }
      const result = await next(args);
      const output = result.output as {
        Item?: Item;
        Items?: Item[];
        Responses?: Record<string, Item[]>;
      };
      if (op === 'GetItem') {
        record({
          op,
          kind: kindOf(input.Key as Item),
          rru: readUnits(itemSize(output.Item), input.ConsistentRead === true),
          wru: 0,
          indexWru: {},
          itemBytes: 0,
        });
      } else if (op === 'BatchGetItem') {
        const request = (input.RequestItems as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>)[
          options.table
        ];
        const found = new Map(
          (output.Responses?.[options.table] ?? []).map((i) => [JSON.stringify(keyOf(i)), i] as const),
        );
        for (const key of request?.Keys ?? []) {
          const item = found.get(JSON.stringify(keyOf(key)));
          record({
            op,
            kind: kindOf(key),
            rru: readUnits(itemSize(item), request?.ConsistentRead === true),
            wru: 0,
            indexWru: {},
            itemBytes: 0,
          });
        }
      } else if (op === 'Query' || op === 'Scan') {
        // The items returned stand for the items read: exact without a filter or a projection expression.
        const bytes = (output.Items ?? []).reduce((a, i) => a + itemSize(i), 0);
        record({
          op,
          kind: String(input.IndexName ?? 'table'),
          rru: readUnits(bytes, input.ConsistentRead === true),
          wru: 0,
          indexWru: {},
          itemBytes: 0,
        });
      }
      return result;
    },
    { step: 'initialize', name: 'dynamoMeter' },
  );
  return meter;
}
