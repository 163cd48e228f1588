// Apollo Client for the gateway: the setup docs/clients.md shows, as apollo.test.mjs runs it.
import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';

// Every type that implements Node. Needed only for fragments on the interface itself
// (`... on Node`); `... on User` inside `node(id:)` matches by __typename without it.
export const possibleTypes = {
  Node: ['User', 'Course', 'CourseItem', 'CourseEnrollment', 'Category', 'Organization', 'Group'],
};

// A root lookup by global id reads the record the cache already holds (a cache redirect)
// instead of asking the gateway again. Lookups by remoteId, email or username still go out:
// the cache cannot know which record they name.
function byId(__typename) {
  return {
    read(existing, { args, toReference }) {
      return existing ?? (args?.id ? toReference({ __typename, id: args.id }) : undefined);
    },
  };
}

// Email, Phone and Url have no id: they are stored inside their record, as lists that a
// later answer replaces whole. A query that selects fewer of their fields (emails { email })
// would then erase the fields another query read (emails { email isPrimary }), silently.
// Merging item by item, matched on the field that names the item, keeps both.
function mergeItemsBy(field) {
  return {
    merge(existing, incoming, { readField, mergeObjects }) {
      if (!existing) return incoming;
      return incoming.map((item) => {
        const match = existing.find((old) => readField(field, old) === readField(field, item));
        return match ? mergeObjects(match, item) : item;
      });
    },
  };
}

export const typePolicies = {
  // No keyFields anywhere: every entity has an `id` unique across types, and the default
  // key `${__typename}:${id}` is right. Email, Url, Phone, PageInfo and the connections
  // have no id and stay inside the record that holds them, as they should.
  Query: {
    fields: {
      // Lists paged over edges: pages are merged into one list per filter and order.
      users: relayStylePagination(['filter', 'orderBy', 'remoteQuery']),
      courses: relayStylePagination(['filter', 'orderBy', 'remoteQuery']),
      user: byId('User'),
      course: byId('Course'),
      courseItem: byId('CourseItem'),
      courseEnrollment: byId('CourseEnrollment'),
      category: byId('Category'),
      group: byId('Group'),
      // A global id does not say its type in clear, but it is unique: take whichever
      // Node type the cache holds under it.
      node: {
        read(existing, { args, toReference, canRead }) {
          if (existing || !args?.id) return existing;
          return possibleTypes.Node.map((__typename) =>
            toReference({ __typename, id: args.id }),
          ).find((reference) => canRead(reference));
        },
      },
    },
  },
  User: {
    fields: { emails: mergeItemsBy('email'), phones: mergeItemsBy('number') },
  },
  Course: {
    fields: {
      // The roster is paged over edges (queries/course_roster.graphql).
      enrollments: relayStylePagination(['filter']),
      urls: mergeItemsBy('url'),
    },
  },
  CourseItem: { fields: { urls: mergeItemsBy('url') } },
  CourseEnrollment: { fields: { urls: mergeItemsBy('url') } },
};

export function createCache() {
  return new InMemoryCache({ possibleTypes, typePolicies });
}

// Automatic persisted queries: the SHA-256 of the document, hex, as the gateway expects.
export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

// The same with Web Crypto, for a browser (Node has it too).
export async function sha256InBrowser(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function createApolloClient(uri, { fetch = globalThis.fetch, persisted = true } = {}) {
  const http = new HttpLink({ uri, fetch });
  return new ApolloClient({
    cache: createCache(),
    link: persisted ? new PersistedQueryLink({ sha256 }).concat(http) : http,
    // @defer: the gateway answers in parts, in the format Apollo Client names
    // `deferSpec=20220824` in its Accept header (queries/learner_dashboard_deferred.graphql).
    incrementalHandler: new Defer20220824Handler(),
  });
}
