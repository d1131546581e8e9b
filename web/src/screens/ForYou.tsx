// Recommendations (anyone) and the feed of followed tags (signed in).
import { api } from "../api/client";
import { ProjectCard, ProjectList } from "../components/ProjectList";
import { ErrorNote, Loading, TagLink } from "../components/ui";
import { useLoad, usePaged, useSession } from "../hooks";

export function ForYouScreen() {
  const session = useSession();
  const recommended = useLoad((signal) => api.recommendations(signal), [session?.userId]);
  return (
    <>
      <h1>For you</h1>
      {session ? <Feed /> : <p className="notice">Sign in to follow tags and get a feed of their projects.</p>}
      <section aria-labelledby="recommended-heading">
        <h2 id="recommended-heading">Recommended</h2>
        <p className="muted">{session ? "Projects with tags you follow first, then the highest scored." : "The highest-scored projects."}</p>
        {recommended.loading && !recommended.data && <Loading what="recommendations" />}
        <ErrorNote error={recommended.error} />
        {recommended.data && recommended.data.items.length === 0 && <p className="empty">Nothing to recommend yet.</p>}
        {recommended.data && recommended.data.items.length > 0 && (
          <ul className="cards" aria-label="Recommended projects">
            {recommended.data.items.map((p) => (
              <li key={p.project_id}>
                <ProjectCard project={p} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function Feed() {
  const followed = useLoad((signal) => api.followedTags(signal), []);
  const feed = usePaged((cursor, signal) => api.feed(cursor, signal), []);
  const tags = followed.data?.tags ?? [];
  return (
    <section aria-labelledby="feed-heading">
      <h2 id="feed-heading">Your feed</h2>
      <p className="muted">
        {tags.length > 0 ? (
          <>
            New projects tagged{" "}
            {tags.map((t) => (
              <TagLink key={t} tag={t} />
            ))}{" "}
            · <a href="#/me/discovery">change</a>
          </>
        ) : (
          <>
            You follow no tags yet: follow some in <a href="#/me/discovery">Followed tags</a> or from a tag filter.
          </>
        )}
      </p>
      {tags.length > 0 && <ProjectList list={feed} label="Feed" empty="No projects with these tags yet." />}
    </section>
  );
}
