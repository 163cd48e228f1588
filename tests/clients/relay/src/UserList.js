// Every user, a page at a time: a connection (@connection) in a fragment on Query that
// usePaginationFragment pages with UserListPaginationQuery (@refetchable).
import { graphql } from 'relay-runtime';

export const UserList = graphql`
  fragment UserList_query on Query
  @refetchable(queryName: "UserListPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 7 }, after: { type: "String" }) {
    users(first: $first, after: $after) @connection(key: "UserList_users") {
      totalCount
      edges {
        node {
          __typename
          id
          ...UserCard_user
        }
      }
    }
  }
`;

export const UserListPage = graphql`
  query UserListQuery {
    ...UserList_query
  }
`;
