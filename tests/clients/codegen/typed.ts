// The types GraphQL Code Generator wrote for queries/ (codegen/generated/graphql.ts), used
// as an app uses them. tsc checks this file (the `@ts-expect-error` lines must be errors,
// or tsc fails), then Node runs what tsc emitted against GATEWAY_URL.
import assert from 'node:assert/strict';

import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';

import {
  CatalogPageDocument,
  type EnrollmentStatus,
  type LearnerCardFragment,
  LearnerDashboardFragmentsDocument,
  type LearnerDashboardQuery,
  LearnerTranscriptDocument,
  type LearnerTranscriptQuery,
} from './generated/graphql.js';

type DashboardUser = LearnerDashboardQuery['users'] extends infer C
  ? C extends { nodes: Array<infer U> }
    ? U
    : never
  : never;

/** A label per status: the switch must cover every value of the schema's enum. */
export function statusLabel(status: EnrollmentStatus): string {
  switch (status) {
    case 'ASSIGNED':
    case 'ENROLLED':
      return 'not started';
    case 'IN_PROGRESS':
      return 'in progress';
    case 'COMPLETED':
    case 'PASSED':
      return 'done';
    case 'FAILED':
    case 'WITHDRAWN':
    case 'EXPIRED':
    case 'OVERDUE':
    case 'UNKNOWN':
      return 'needs attention';
    default: {
      const unexpected: never = status;
      return unexpected;
    }
  }
}

export function card(user: LearnerCardFragment): string {
  return `${user.name ?? '?'} <${user.emails[0]?.email ?? ''}>`;
}

export function titles(data: LearnerTranscriptQuery): string[] {
  return data.user?.enrollments?.nodes.map((node) => node.course?.title ?? '') ?? [];
}

export function firstUserName(user: DashboardUser): string | null {
  // @ts-expect-error username is not selected by LearnerDashboard, so it is not in its type
  void user.username;
  return user.name;
}

export async function run(uri: string): Promise<void> {
  const client = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri }) });

  // Typed documents: the variables are checked and the data is typed, no generic needed.
  const transcript = await client.query({
    query: LearnerTranscriptDocument,
    variables: { userRemoteId: '8' },
  });
  const names: string[] = titles(transcript.data!);
  assert.ok(names.length > 0 && names.every((title) => title.length > 0));
  const statuses = transcript.data!.user!.enrollments!.nodes.map((node) => node.status);
  assert.ok(statuses.every((status) => status === null || statusLabel(status).length > 0));

  await client.query({
    query: LearnerTranscriptDocument,
    // @ts-expect-error the variable is $userRemoteId: an unknown one is refused
    variables: { userId: '8' },
  });

  const catalog = await client.query({ query: CatalogPageDocument, variables: { first: 3 } });
  const courses = catalog.data!.courses!.edges.map((edge) => edge.node);
  assert.equal(courses.length, 3);
  assert.ok(courses.every((course) => course.status === 'PUBLISHED'));

  // Fragments: each component's type is the fragment's, and the query's data fits it.
  const dashboard = await client.query({ query: LearnerDashboardFragmentsDocument });
  const cards = dashboard.data!.users!.nodes.map((user) => card(user));
  assert.equal(cards.length, 5);
}

const url = process.env.GATEWAY_URL;
if (!url) throw new Error('GATEWAY_URL is not set');
await run(url);
process.stdout.write('typed operations ran against the gateway\n');
