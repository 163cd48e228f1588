// One user, named by the provider's id (a link from another system).
import { graphql } from 'relay-runtime';

export const UserPage = graphql`
  query UserPageQuery($remoteId: ID!) {
    user(remoteId: $remoteId) {
      __typename
      id
      remoteId
      ...UserCard_user
      enrollments(first: 50) {
        nodes {
          __typename
          id
          remoteId
          status
          course { __typename id remoteId title }
        }
      }
    }
  }
`;
