// Apollo Client against a running gateway (GATEWAY_URL): every operation of queries/ ends up
// normalized in the cache, paging through `users` with fetchMore keeps every page, and
// automatic persisted queries send only the hash once the gateway knows the document.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { ApolloClient, HttpLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

import {
  ENTITY_TYPES,
  VARIABLES,
  gatewayUrl,
  queryFiles,
  recordingFetch,
  walk,
} from '../common.mjs';
import { createApolloClient, createCache, sha256, sha256InBrowser } from './client.mjs';

// Apollo Client reports cache trouble (data lost on a merge, missing fields, a fragment it
// cannot match) with console.warn and console.error: any of it fails the test it came in.
let complaints;
const original = { warn: console.warn, error: console.error };
beforeEach(() => {
  complaints = [];
  console.warn = (...args) => complaints.push(['warn', ...args]);
  console.error = (...args) => complaints.push(['error', ...args]);
});
afterEach(() => {
  Object.assign(console, original);
  assert.deepEqual(complaints, [], 'Apollo Client complained');
});

/** The data the gateway answered to the last request for `name` that had data. */
function answered(fetch, name) {
  const exchange = fetch.exchanges.findLast(
    (e) => e.request?.operationName === name && e.response.data,
  );
  assert.ok(exchange, `no answer with data for ${name}`);
  assert.equal(exchange.response.errors, undefined, `${name}: errors from the gateway`);
  return exchange.response.data;
}

test('every entity of every operation in queries/ is normalized', async () => {
  const fetch = recordingFetch();
  const client = createApolloClient(gatewayUrl(), { fetch });
  const operations = queryFiles().map((op) => ({ ...op, document: gql(op.text) }));
  for (const { name, document } of operations) {
    // network-only: each operation's own answer, though the cache could answer some of them.
    const { data, error } = await client.query({
      query: document,
      variables: VARIABLES[name],
      fetchPolicy: 'network-only',
    });
    assert.equal(error, undefined, `${name}: ${error}`);
    assert.ok(data, `${name}: no data`);
  }
  const store = client.cache.extract();

  // No entity is stored inside another record: each one is a reference to its own entry.
  for (const [key, record] of Object.entries(store)) {
    walk(record, (object, path) => {
      if (path.length > 0 && ENTITY_TYPES.has(object.__typename)) {
        assert.fail(`${object.__typename} stored inline in ${key} at ${path.join('.')}`);
      }
    });
  }

  // Every entity the gateway sent has its own `Type:id` entry, and that entry holds what the
  // gateway sent for that record, field by field (no record carries another's data).
  let entities = 0;
  for (const { name } of operations) {
    walk(answered(fetch, name), (object, path) => {
      if (!ENTITY_TYPES.has(object.__typename)) return;
      entities += 1;
      assert.equal(typeof object.id, 'string', `${name}: ${object.__typename} without id`);
      const key = `${object.__typename}:${object.id}`;
      const record = store[key];
      assert.ok(record, `${name}: ${key} (at ${path.join('.')}) is not normalized`);
      for (const [field, value] of Object.entries(object)) {
        if (value === null || typeof value !== 'object') {
          assert.deepEqual(record[field], value, `${name}: ${key}.${field}`);
        }
      }
    });
  }
  assert.ok(entities > 500, `only ${entities} entities read`);
  const types = new Set(Object.values(store).map((record) => record.__typename));
  for (const type of ['User', 'Course', 'CourseItem', 'CourseEnrollment', 'Category']) {
    assert.ok(types.has(type), `no ${type} in the cache`);
  }

  // Read back from the cache alone, each operation is what the gateway answered.
  for (const { name, document } of operations) {
    const cached = client.readQuery({ query: document, variables: VARIABLES[name] });
    assert.deepEqual(cached, answered(fetch, name), `${name} read from the cache`);
  }
});

test('the cache answers what it holds without a request: fragments, lookups by id, node(id:)', async () => {
  const fetch = recordingFetch();
  const client = createApolloClient(gatewayUrl(), { fetch });
  const operation = (name) => gql(queryFiles().find((op) => op.name === name).text);
  const { data } = await client.query({ query: operation('LearnerDashboard') });
  const requests = fetch.exchanges.length;

  // The dashboard as components write it, with fragments: the same records, so the cache
  // has every field of it already.
  const { data: fragments } = await client.query({ query: operation('LearnerDashboardFragments') });
  assert.equal(fetch.exchanges.length, requests, 'the cache answered without the gateway');
  assert.deepEqual(fragments, data);

  const [user] = data.users.nodes;
  const course = user.enrollments.nodes[0].course;

  const { data: again } = await client.query({
    query: gql`
      query Again($user: ID!, $course: ID!) {
        user(id: $user) { __typename id name role }
        node(id: $course) { __typename id ... on Course { title } }
      }
    `,
    variables: { user: user.id, course: course.id },
  });
  assert.equal(fetch.exchanges.length, requests, 'the cache answered without the gateway');
  const { __typename, id, name, role } = user;
  assert.deepEqual(again.user, { __typename, id, name, role });
  assert.deepEqual(again.node, { __typename: 'Course', id: course.id, title: course.title });
});

const USERS_PAGE = gql`
  query UsersPage($first: Int!, $after: String) {
    users(first: $first, after: $after) {
      __typename
      totalCount
      edges { __typename cursor node { __typename id remoteId name } }
      pageInfo { __typename hasNextPage endCursor }
    }
  }
`;

test('paging through users with fetchMore keeps every page', async () => {
  const fetch = recordingFetch();
  const client = createApolloClient(gatewayUrl(), { fetch });
  // Another view of the same list, read over nodes, is in the cache first (the dashboard):
  // relayStylePagination keeps its nodes apart from the edges it merges.
  const dashboard = queryFiles().find((op) => op.name === 'LearnerDashboard');
  const { data: board } = await client.query({ query: gql(dashboard.text) });

  const query = client.watchQuery({ query: USERS_PAGE, variables: { first: 7 } });
  const seen = [];
  const subscription = query.subscribe((result) => seen.push(result));
  // What the watching query (a component) is shown, once it shows a complete list that
  // `done` accepts.
  async function shown(done) {
    for (let waited = 0; ; waited += 10) {
      const last = seen.at(-1);
      if (last?.dataState === 'complete' && done(last.data)) return last.data;
      assert.ok(waited < 5000, 'the watching query never showed the list');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  try {
    let data = await shown(() => true);
    let pages = 1;
    while (data.users.pageInfo.hasNextPage) {
      const { endCursor } = data.users.pageInfo;
      const count = data.users.edges.length;
      await query.fetchMore({ variables: { after: endCursor } });
      data = await shown((next) => next.users.edges.length > count);
      pages += 1;
      assert.ok(pages < 100, 'paging does not end');
    }
    const { totalCount, edges } = data.users;
    const ids = edges.map((edge) => edge.node.id);
    assert.equal(totalCount, 60); // the demo portal
    assert.equal(pages, Math.ceil(totalCount / 7));
    assert.equal(ids.length, totalCount, 'every page is kept');
    assert.equal(new Set(ids).size, totalCount, 'each user once');
    // In the gateway's order (the provider's: by id), page after page.
    assert.deepEqual(
      edges.map((edge) => Number(edge.node.remoteId)),
      [...Array(totalCount).keys()].map((n) => n + 1),
    );
    const sent = fetch.exchanges.filter((e) => e.request?.operationName === 'UsersPage');
    assert.ok(sent.every((e) => e.request.variables.first === 7));
  } finally {
    subscription.unsubscribe();
  }
  // The dashboard still reads its five users from the same field.
  const { data: boardAgain } = await client.query({
    query: gql(dashboard.text),
    fetchPolicy: 'cache-only',
  });
  assert.deepEqual(boardAgain, board);
});

test('automatic persisted queries: a document the gateway knows goes as its hash alone', async () => {
  const fetch = recordingFetch();
  const client = createApolloClient(gatewayUrl(), { fetch });
  // A document of its own, so the gateway has not stored it before this run.
  const marker = `run${Date.now()}${process.pid}`;
  const query = gql`
    query ApqProbe {
      users(first: 2) { __typename nodes { __typename id name } }
      ${marker}: __typename
    }
  `;
  const first = await client.query({ query, fetchPolicy: 'network-only' });
  const second = await client.query({ query, fetchPolicy: 'network-only' });
  assert.deepEqual(second.data, first.data);

  const [notFound, registered, byHash, ...rest] = fetch.exchanges;
  assert.deepEqual(rest, []);
  const hash = notFound.request.extensions.persistedQuery.sha256Hash;
  assert.equal(registered.request.query && sha256(registered.request.query), hash);
  // First: the hash alone, which the gateway does not know; then the hash and the document.
  assert.equal(notFound.request.query, undefined);
  assert.equal(notFound.response.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
  assert.equal(registered.request.extensions.persistedQuery.sha256Hash, hash);
  assert.ok(registered.response.data);
  // From then on, the hash alone runs the document.
  assert.equal(byHash.request.query, undefined);
  assert.deepEqual(byHash.request.extensions.persistedQuery, { version: 1, sha256Hash: hash });
  assert.deepEqual(byHash.response.data, registered.response.data);
});

test('automatic persisted queries over GET (Web Crypto hashes): a known document is a short URL', async () => {
  const fetch = recordingFetch();
  const link = new PersistedQueryLink({
    sha256: sha256InBrowser,
    useGETForHashedQueries: true,
  }).concat(
    new HttpLink({ uri: gatewayUrl(), fetch }),
  );
  const client = new ApolloClient({ cache: createCache(), link });
  const marker = `get${Date.now()}${process.pid}`;
  const query = gql`
    query ApqGetProbe {
      courses(first: 2) { __typename nodes { __typename id title } }
      ${marker}: __typename
    }
  `;
  await client.query({ query, fetchPolicy: 'network-only' });
  const second = await client.query({ query, fetchPolicy: 'network-only' });
  const [notFound, registered, byHash, ...rest] = fetch.exchanges;
  assert.deepEqual(rest, []);
  // The hash alone goes as a GET; the document, when the gateway asks for it, as a POST.
  assert.deepEqual([notFound.method, registered.method, byHash.method], ['GET', 'POST', 'GET']);
  assert.equal(notFound.response.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
  assert.equal(byHash.url.searchParams.get('query'), null);
  const extensions = JSON.parse(byHash.url.searchParams.get('extensions'));
  assert.equal(extensions.persistedQuery.sha256Hash, sha256(registered.request.query));
  assert.deepEqual(byHash.response.data, second.data);
  assert.equal(second.data.courses.nodes.length, 2);
});
