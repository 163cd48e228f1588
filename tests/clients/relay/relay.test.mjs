// Relay against a running gateway (GATEWAY_URL), with the artifacts relay-compiler wrote
// from relay/src (npm run relay compiles first). A store filled by the dashboard, a user
// lookup and a category lookup never mixes records; @refetchable fragments refetch through
// node(id:); a @connection pages to the end.
//
// The artifacts are CommonJS ("eagerEsModules": false in relay.config.json, and
// relay/__generated__/package.json says so to Node): they require each other without a file
// extension, which Node resolves for CommonJS and not for ES modules.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import {
  Environment,
  RecordSource,
  Store,
  createOperationDescriptor,
  getSelector,
} from 'relay-runtime';

import { ENTITY_TYPES, gatewayUrl, recordingFetch, walk } from '../common.mjs';
import { createEnvironment, createNetwork } from './environment.mjs';
import CategoryPageQuery from './__generated__/CategoryPageQuery.graphql.js';
import CourseCard_course from './__generated__/CourseCard_course.graphql.js';
import DashboardQuery from './__generated__/DashboardQuery.graphql.js';
import UserCard_user from './__generated__/UserCard_user.graphql.js';
import UserListPaginationQuery from './__generated__/UserListPaginationQuery.graphql.js';
import UserListQuery from './__generated__/UserListQuery.graphql.js';
import UserList_query from './__generated__/UserList_query.graphql.js';
import UserPageQuery from './__generated__/UserPageQuery.graphql.js';

// Relay warns (console.error) when a record changes type or a field is missing: every
// warning fails the test it happened in, but where a test expects it.
let warnings;
const consoleError = console.error;
beforeEach(() => {
  warnings = [];
  console.error = (...args) => warnings.push(args.join(' '));
});
afterEach(() => {
  console.error = consoleError;
});
function assertNoWarnings() {
  assert.deepEqual(warnings, [], 'Relay warned');
}

const FRAGMENTS = { CourseCard_course, UserCard_user, UserList_query };

// A user and a category with the same provider id: TalentLMS numbers both from 1, and the
// demo portal has categories 21 to 25. Keyed by the provider's id, they were one record.
const SHARED_REMOTE_ID = '23';

/** Runs `query` as a mounted component would (retained, so its records stay in the store)
 * and returns its operation and the data the gateway answered. */
async function run(environment, fetch, query, variables = {}) {
  const operation = createOperationDescriptor(query, variables);
  environment.retain(operation);
  await new Promise((resolve, reject) => {
    environment.execute({ operation }).subscribe({ complete: resolve, error: reject });
  });
  const { request, response } = fetch.exchanges.at(-1);
  assert.equal(request.operationName, query.params.name);
  const { errors } = response;
  assert.equal(errors, undefined, `${query.params.name}: ${JSON.stringify(errors)}`);
  return { name: query.params.name, operation, answer: response.data };
}

/** What a component reads: the data of `selector`, with each spread fragment read from the
 * store too (as useFragment does) and its fields put in place of the fragment reference. */
function read(environment, selector) {
  const snapshot = environment.lookup(selector);
  assert.equal(snapshot.isMissingData, false, `${selector.node.name}: data missing from the store`);
  return expand(environment, snapshot.data);
}

function expand(environment, value) {
  if (Array.isArray(value)) return value.map((item) => expand(environment, item));
  if (value === null || typeof value !== 'object') return value;
  const data = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '__typename' || !key.startsWith('__')) data[key] = expand(environment, child);
  }
  for (const name of Object.keys(value.__fragments ?? {})) {
    assert.ok(FRAGMENTS[name], `no artifact imported for ${name}`);
    Object.assign(data, read(environment, getSelector(FRAGMENTS[name], value)));
  }
  return data;
}

/** Where what the store gives for an operation differs from what the gateway answered. */
function readingDifferences(environment, { name, operation, answer }) {
  const differences = [];
  (function compare(read, answered, path) {
    if (read !== null && typeof read === 'object') {
      if (answered === null || typeof answered !== 'object') {
        differences.push(`${name} ${path}: reads an object, the gateway answered ${answered}`);
      } else if (Array.isArray(read) && read.length !== answered.length) {
        differences.push(
          `${name} ${path}: reads ${read.length} items, the gateway sent ${answered.length}`,
        );
      } else {
        for (const key of Object.keys(read)) compare(read[key], answered[key], `${path}.${key}`);
      }
    } else if (!isDeepStrictEqual(read, answered)) {
      const [reads, sent] = [JSON.stringify(read), JSON.stringify(answered)];
      differences.push(`${name} ${path}: reads ${reads}, the gateway answered ${sent}`);
    }
  })(read(environment, operation.fragment), answer, 'data');
  return differences;
}

/** Where a record of the store holds something else than the gateway sent for that record:
 * every object of every answer with an id, field by field. `dataId` is how the environment
 * keys records (Relay's default: `id`). */
function recordDifferences(environment, runs, dataId = (object) => object.id) {
  const source = environment.getStore().getSource();
  const differences = [];
  for (const { name, answer } of runs) {
    walk(answer, (object, path) => {
      if (typeof object.id !== 'string') return;
      const where = `${name} ${path.join('.')}`;
      const record = source.get(dataId(object));
      if (!record) {
        differences.push(`${where}: no record for ${object.__typename} ${object.id}`);
        return;
      }
      for (const [field, value] of Object.entries(object)) {
        if (value !== null && typeof value === 'object') continue; // a linked record
        if (!isDeepStrictEqual(record[field], value)) {
          const [has, sent] = [JSON.stringify(record[field]), JSON.stringify(value)];
          differences.push(
            `${where}: the record ${dataId(object)} has ${field} ${has}, ` +
              `the gateway sent ${sent} for ${object.__typename} ${object.id}`,
          );
        }
      }
    });
  }
  return differences;
}

async function fillStore(environment, fetch) {
  return [
    await run(environment, fetch, DashboardQuery),
    await run(environment, fetch, UserPageQuery, { remoteId: SHARED_REMOTE_ID }),
    await run(environment, fetch, CategoryPageQuery, { remoteId: SHARED_REMOTE_ID }),
  ];
}

test('relay-compiler made User and Course fragments refetchable through node(id:)', () => {
  for (const [fragment, type] of [
    [UserCard_user, 'User'],
    [CourseCard_course, 'Course'],
  ]) {
    assert.equal(fragment.type, type);
    const { refetch } = fragment.metadata;
    assert.deepEqual(refetch.identifierInfo, {
      identifierField: 'id',
      identifierQueryVariableName: 'id',
    });
    assert.deepEqual(refetch.fragmentPathInResult, ['node']);
    assert.match(refetch.operation.params.text, /node\(id: \$id\)/);
  }
});

test('a store filled by the dashboard, a user lookup and a category lookup never mixes records', async () => {
  const fetch = recordingFetch();
  const environment = createEnvironment(gatewayUrl(), { fetch });
  const runs = await fillStore(environment, fetch);
  const [dashboard, user, category] = runs.map((r) => r.answer);
  assert.equal(dashboard.users.nodes.length, 5);
  assert.equal(user.user.remoteId, SHARED_REMOTE_ID);
  assert.equal(category.category.remoteId, SHARED_REMOTE_ID);
  assert.notEqual(user.user.id, category.category.id);

  assert.deepEqual(recordDifferences(environment, runs), []);
  // Read back after all three, each operation is what the gateway answered for it.
  for (const r of runs) assert.deepEqual(readingDifferences(environment, r), []);

  const types = new Set();
  const source = environment.getStore().getSource();
  for (const id of source.getRecordIDs()) types.add(source.get(id).__typename);
  for (const type of ENTITY_TYPES) assert.ok(types.has(type), `no ${type} in the store`);
  assertNoWarnings();
});

test('the same checks catch a store keyed by the provider id, as Relay was before global ids', async () => {
  // The control: records keyed by remoteId, which is what the gateway's ids used to be.
  const fetch = recordingFetch();
  const environment = new Environment({
    network: createNetwork(gatewayUrl(), { fetch }),
    store: new Store(new RecordSource()),
    getDataID: (value) => value.remoteId ?? value.id,
  });
  const runs = await fillStore(environment, fetch);
  const byRemoteId = (object) => object.remoteId ?? object.id;
  const differences = recordDifferences(environment, runs, byRemoteId);
  assert.ok(
    differences.some((d) => d.includes(`the gateway sent "User" for User`)),
    `user ${SHARED_REMOTE_ID} should read as the category:\n${differences.join('\n')}`,
  );
  const readings = runs.flatMap((r) => readingDifferences(environment, r));
  assert.ok(
    readings.some((d) => d.startsWith('UserPageQuery data.user.name')),
    `the user page should read the category's name:\n${readings.join('\n')}`,
  );
  // Relay itself notices a record that changes type.
  assert.ok(warnings.some((w) => w.includes('globally unique id')), warnings.join('\n'));
});

test('@refetchable fragments refetch their record through node(id:)', async () => {
  const fetch = recordingFetch();
  const environment = createEnvironment(gatewayUrl(), { fetch });
  const page = await run(environment, fetch, UserPageQuery, { remoteId: SHARED_REMOTE_ID });
  const dashboard = await run(environment, fetch, DashboardQuery);
  const userRef = environment.lookup(page.operation.fragment).data.user;
  const courseRef = environment.lookup(dashboard.operation.fragment).data.users.nodes[0]
    .enrollments.nodes[0].course;

  for (const [fragment, ref] of [
    [UserCard_user, userRef],
    [CourseCard_course, courseRef],
  ]) {
    const before = read(environment, getSelector(fragment, ref));
    // What useRefetchableFragment's refetch({}) sends: the refetch query, with the
    // fragment's id as $id.
    const { operation, identifierInfo } = fragment.metadata.refetch;
    const variables = {
      [identifierInfo.identifierQueryVariableName]: before[identifierInfo.identifierField],
    };
    const refetched = await run(environment, fetch, operation, variables);
    assert.equal(fetch.exchanges.at(-1).request.variables.id, before.id);
    assert.equal(refetched.answer.node.__typename, fragment.type);
    assert.equal(refetched.answer.node.id, before.id);
    assert.deepEqual(readingDifferences(environment, refetched), []);
    assert.deepEqual(read(environment, getSelector(fragment, ref)), before);
  }
  assertNoWarnings();
});

test('a @connection on users pages to the end and keeps every page', async () => {
  const fetch = recordingFetch();
  const environment = createEnvironment(gatewayUrl(), { fetch });
  const list = await run(environment, fetch, UserListQuery);
  const fragmentRef = environment.lookup(list.operation.fragment).data;
  const runs = [list];
  let data = read(environment, getSelector(UserList_query, fragmentRef));
  while (data.users.pageInfo.hasNextPage) {
    // What usePaginationFragment's loadNext(7) sends.
    runs.push(
      await run(environment, fetch, UserListPaginationQuery, {
        first: 7,
        after: data.users.pageInfo.endCursor,
      }),
    );
    data = read(environment, getSelector(UserList_query, fragmentRef));
    assert.ok(runs.length < 100, 'paging does not end');
  }
  const ids = data.users.edges.map((edge) => edge.node.id);
  assert.equal(data.users.totalCount, 60); // the demo portal
  assert.equal(runs.length, Math.ceil(60 / 7));
  assert.equal(ids.length, 60, 'every page is kept');
  assert.equal(new Set(ids).size, 60, 'each user once');
  assert.deepEqual(
    ids,
    runs.flatMap((r) => (r.answer.users ?? r.answer.node).edges.map((edge) => edge.node.id)),
  );
  assert.deepEqual(recordDifferences(environment, runs), []);
  assertNoWarnings();
});
