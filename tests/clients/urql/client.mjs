// urql with Graphcache for the gateway: the setup docs/clients.md shows, as urql.test.mjs
// runs it.
import { readFileSync } from 'node:fs';

import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { buildSchema, introspectionFromSchema } from 'graphql';

const NODE_TYPES = [
  'User',
  'Course',
  'CourseItem',
  'CourseEnrollment',
  'Category',
  'Organization',
  'Group',
];

// Graphcache keys every object by `id` (or `_id`) out of the box: every entity of the gateway
// has one, unique across types. The types without an id are embedded in their parent; for
// Email, Phone and Url a key of null says so (Graphcache warns about them otherwise; it
// knows connections, edges and PageInfo by their names).
export const keys = { Email: () => null, Phone: () => null, Url: () => null };

// The schema, as introspection: Graphcache then matches fragments on interfaces exactly
// (node(id:) { ... on User { … } ... on Category { … } }) instead of guessing and warning,
// and can answer with partial data for nullable fields. A browser app imports a JSON file
// made at build time (GraphQL Code Generator's introspection plugin writes one).
export const schema = introspectionFromSchema(
  buildSchema(readFileSync(new URL('../../../schema/schema.graphql', import.meta.url), 'utf8')),
);

// A root lookup by global id reads the record the cache holds (a cache redirect); other
// lookups (remoteId, email, username) read what they stored themselves.
function byId(__typename) {
  return (parent, args, cache, info) =>
    args.id ? { __typename, id: args.id } : cache.resolve(info.parentKey, info.fieldName, args);
}

export const resolvers = {
  Query: {
    // The users list paged over edges (or nodes): pages merged into one list.
    users: relayPagination(),
    user: byId('User'),
    course: byId('Course'),
    courseItem: byId('CourseItem'),
    courseEnrollment: byId('CourseEnrollment'),
    category: byId('Category'),
    group: byId('Group'),
    // A global id does not say its type in clear, but it is unique: whichever Node type the
    // cache holds under it.
    node(parent, args, cache, info) {
      const held = NODE_TYPES.map((__typename) => cache.keyOfEntity({ __typename, id: args.id }))
        .find((key) => cache.resolve(key, 'id') === args.id);
      return held ?? cache.resolve(info.parentKey, info.fieldName, args);
    },
  },
};

export function createUrqlClient(url, { fetch = globalThis.fetch } = {}) {
  return new Client({
    url,
    fetch,
    exchanges: [cacheExchange({ schema, keys, resolvers }), fetchExchange],
    preferGetMethod: false,
  });
}
