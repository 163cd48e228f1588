// Sends an operation with @defer through Apollo Client 3's HttpLink (which asks for
// multipart/mixed;deferSpec=20220824 and reads the parts) and prints, as one JSON object on
// stdout, what Apollo Client made of the answer:
//
//   node apollo_defer.mjs http://127.0.0.1:8000/graphql operation.graphql
//
// {"results": [{data, incremental, errors, hasNext, extensions} as HttpLink emitted each
//  part], "merged": the data ApolloClient.query resolves with (the parts merged)}.
// Exit status: 0 when the link completed, 1 when it failed, 2 on a usage error.
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, execute, gql } from '@apollo/client/core/index.js';

const [url, file] = process.argv.slice(2);
if (!url || !file) {
  process.stderr.write('usage: node apollo_defer.mjs URL OPERATION_FILE\n');
  process.exit(2);
}
const query = gql(readFileSync(file, 'utf8'));
const link = new HttpLink({ uri: url, fetch });

const results = [];
try {
  await new Promise((resolve, reject) => {
    execute(link, { query }).subscribe({
      next: (result) => results.push(result),
      error: reject,
      complete: resolve,
    });
  });
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const { data } = await client.query({ query, fetchPolicy: 'no-cache', errorPolicy: 'all' });
  process.stdout.write(JSON.stringify({ results, merged: data }) + '\n');
} catch (error) {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
}
