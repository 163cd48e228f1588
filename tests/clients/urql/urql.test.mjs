// urql with Graphcache against a running gateway (GATEWAY_URL): entities are normalized by
// their id, so the cache answers lookups of records another query brought; users and
// categories with the same provider id stay apart; pages of users merge.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';

import { VARIABLES, gatewayUrl, queryFiles, recordingFetch } from '../common.mjs';
import { createUrqlClient, resolvers, schema } from './client.mjs';

// Graphcache warns (console.warn) about every object it cannot key, every field it cannot
// read and every resolver that does not fit the document: any warning fails the test.
let warnings;
const consoleWarn = console.warn;
beforeEach(() => {
  warnings = [];
  console.warn = (...args) => warnings.push(args.join(' '));
});
afterEach(() => {
  console.warn = consoleWarn;
});

const operation = (name) => gql(queryFiles().find((op) => op.name === name).text);

async function query(client, document, variables = {}, requestPolicy = 'cache-first') {
  const result = await client.query(document, variables, { requestPolicy }).toPromise();
  assert.equal(result.error, undefined, String(result.error));
  return result;
}

test('the cache answers lookups by id from the records the dashboard stored', async () => {
  const fetch = recordingFetch();
  const client = createUrqlClient(gatewayUrl(), { fetch });
  const { data } = await query(client, operation('LearnerDashboard'));
  const requests = fetch.exchanges.length;
  assert.equal(requests, 1);

  // The same records through fragments: every field is in the cache already.
  const fragments = await query(client, operation('LearnerDashboardFragments'), {}, 'cache-only');
  assert.deepEqual(fragments.data, data);

  const lookup = gql`
    query Lookup($user: ID!, $course: ID!) {
      user(id: $user) { __typename id name role emails { __typename email } }
      course(id: $course) {
        __typename
        id
        title
        items { __typename nodes { __typename id title children { __typename id title } } }
      }
    }
  `;
  for (const user of data.users.nodes) {
    const { course } = user.enrollments.nodes[0];
    const read = await query(client, lookup, { user: user.id, course: course.id }, 'cache-only');
    assert.equal(read.stale, false);
    const { enrollments, ...fields } = user;
    assert.deepEqual(read.data.user, fields);
    assert.equal(read.data.course.title, course.title);
    assert.deepEqual(
      read.data.course.items.nodes.map((item) => item.id),
      course.items.nodes.map((item) => item.id),
    );
  }
  assert.equal(fetch.exchanges.length, requests, 'the cache answered without the gateway');
  assert.deepEqual(warnings, [], 'Graphcache warned');
});

test('a user and a category with the same provider id stay two records', async () => {
  const fetch = recordingFetch();
  const client = createUrqlClient(gatewayUrl(), { fetch });
  const { data } = await query(
    client,
    gql`
      {
        user(remoteId: "23") { __typename id remoteId name }
        category(remoteId: "23") { __typename id remoteId name }
      }
    `,
  );
  assert.equal(data.user.remoteId, data.category.remoteId);
  const node = gql`
    query Node($id: ID!) {
      node(id: $id) {
        __typename
        id
        ... on User { remoteId name }
        ... on Category { remoteId name }
      }
    }
  `;
  for (const record of [data.user, data.category]) {
    const read = await query(client, node, { id: record.id }, 'cache-only');
    assert.deepEqual(read.data.node, record);
  }
  assert.equal(fetch.exchanges.length, 1);
  assert.deepEqual(warnings, [], 'Graphcache warned');
});

// urql aborts its fetch as soon as it has an answer's last part (hasNext: false), before the
// body's end is read; on Node's fetch that abort then fails the stream it no longer reads,
// outside any promise urql awaits. Answers read whole first leave nothing to abort.
async function wholeBodyFetch(input, init) {
  const response = await fetch(input, init);
  return new Response(await response.arrayBuffer(), response);
}

test('every operation in queries/ runs through Graphcache without a warning', async () => {
  // learner_dashboard_deferred.graphql is answered in parts (@defer), merged by urql.
  const client = createUrqlClient(gatewayUrl(), { fetch: wholeBodyFetch });
  for (const { name, text } of queryFiles()) {
    const { data } = await query(client, gql(text), VARIABLES[name], 'network-only');
    assert.ok(data, name);
  }
  assert.deepEqual(warnings, [], 'Graphcache warned');
});

test('without keys for the types that have no id, Graphcache warns', async () => {
  const client = new Client({
    url: gatewayUrl(),
    exchanges: [cacheExchange({ schema, resolvers }), fetchExchange],
  });
  await query(client, operation('LearnerTranscript'), VARIABLES.LearnerTranscript);
  assert.ok(
    warnings.some((w) => w.includes('create a `keys` config for `Email` that always returns null')),
    warnings.join('\n'),
  );
});

// relayPagination merges pages read over edges and pages read over nodes alike.
const FORMS = [
  'edges { __typename cursor node { __typename id name } }',
  'nodes { __typename id name }',
];
for (const form of FORMS) {
  test(`pages of users merge into one list (relayPagination, ${form.split(' ')[0]})`, async () => {
    const client = createUrqlClient(gatewayUrl());
    const page = gql(`
      query UsersPage($first: Int!, $after: String) {
        users(first: $first, after: $after) {
          __typename
          totalCount
          ${form}
          pageInfo { __typename hasNextPage endCursor }
        }
      }
    `);
    let { data } = await query(client, page, { first: 7 });
    let pages = 1;
    while (data.users.pageInfo.hasNextPage) {
      ({ data } = await query(client, page, { first: 7, after: data.users.pageInfo.endCursor }));
      pages += 1;
      assert.ok(pages < 100, 'paging does not end');
    }
    const users = data.users.edges?.map((edge) => edge.node) ?? data.users.nodes;
    const ids = users.map((user) => user.id);
    assert.equal(data.users.totalCount, 60);
    assert.equal(pages, Math.ceil(60 / 7));
    assert.equal(ids.length, 60, 'every page is kept');
    assert.equal(new Set(ids).size, 60, 'each user once');
    assert.deepEqual(warnings, [], 'Graphcache warned');
  });
}
