// A course with its outline; refetchable like UserCard.
import { graphql } from 'relay-runtime';

export const CourseCard = graphql`
  fragment CourseCard_course on Course @refetchable(queryName: "CourseCardRefetchQuery") {
    __typename
    id
    remoteId
    title
    code
    categories { __typename id remoteId name }
    items {
      nodes {
        __typename
        id
        remoteId
        title
        type
        children { __typename id remoteId title }
      }
    }
  }
`;
